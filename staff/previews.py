"""Every email the site sends, rendered in admin with sample data, so staff can read what people receive."""

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cohorts.models import Cohort, WaitlistEntry
from registrations.email_layout import html_version, with_footer
from registrations.emails import render_body
from registrations.models import Order, Payment, Refund, Seat
from registrations.selectors.breakout import SeatBreakout
from registrations.selectors.ledger import OrderMoney
from support.selectors import LinksForEmail
from workshops.models import DEFAULT_TIME_ZONE, AffinityGroup, PreworkModule, Session, Workshop

# Never saved: the ids only let templates follow relations that are filled in here by hand.
SAMPLE_ID = 999_999


class UnknownPreview(Exception):
    pass


@dataclass(frozen=True)
class Preview:
    app: str
    name: str
    title: str
    sent_when: str
    variant: str
    variants: tuple[str, ...]
    text: str
    html: str  # the HTML part, made from the text as the outbox makes it

    @property
    def url(self) -> str:
        return reverse("admin:staff_email_preview", kwargs={"app": self.app, "name": self.name})


def _next_may(now: datetime) -> datetime:
    zone = zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
    year = timezone.localtime(now, zone).year
    first = datetime(year, 5, 5, 16, 0, tzinfo=zone)
    return first if first > now else first.replace(year=year + 1)


def _workshop(now: datetime) -> Workshop:
    first = _next_may(now)
    workshop = Workshop(
        pk=SAMPLE_ID, title="Using Racial Affinity Groups in Schools", slug="using-racial-affinity-groups-in-schools",
        platform="Zoom", capacity=150, prework_hours=2, live_hours=4, time_zone=DEFAULT_TIME_ZONE,
    )
    sessions = [
        Session(pk=SAMPLE_ID + n, workshop=workshop, title=f"Live session {n + 1}", starts_at=start,
                ends_at=start + timedelta(hours=2))
        for n, start in enumerate((first, first + timedelta(days=14)))
    ]
    modules = [PreworkModule(pk=SAMPLE_ID, workshop=workshop, title="Framework reading", minutes=60)]
    workshop._prefetched_objects_cache = {"sessions": sessions, "prework_modules": modules, "price_tiers": []}
    return workshop


def _order(workshop: Workshop, now: datetime, **changes) -> Order:
    fields = dict(
        pk=SAMPLE_ID, reference="ESL-SAMPLE23", workshop=workshop, buyer_name="Maya Johnson",
        buyer_email="maya.johnson@lincoln.example", organisation="Lincoln Unified School District",
        role=Order.Role.SCHOOL_LEADER, seat_count=5, unit_price_cents=10000, subtotal_cents=50000, total_cents=50000,
        tier_min_seats=5, status=Order.Status.PAID, hold_expires_at=now + timedelta(minutes=31), paid_at=now,
        created_at=now, stripe_payment_intent_id="pi_sample",
    )
    fields.update(changes)
    return Order(**fields)


def _invoice_order(workshop: Workshop, now: datetime) -> Order:
    due = now + timedelta(days=14)
    return _order(
        workshop, now, status=Order.Status.PENDING, paid_at=None, payment_method=Order.PaymentMethod.INVOICE,
        billing_name="Dana Reyes", billing_email="accounts@lincoln.example", po_number="PO-2027-0412",
        invoice_number="ESL-0042", invoice_status=Order.InvoiceStatus.OPEN, invoice_due_at=due, hold_expires_at=due,
        stripe_invoice_url="https://invoice.stripe.com/i/sample",
    )


def _seat(order: Order, position: int = 1, name: str = "Luis Ortega") -> Seat:
    email = f"{name.split()[0].lower()}@lincoln.example" if name else ""
    return Seat(pk=SAMPLE_ID + position, order=order, position=position, attendee_name=name, attendee_email=email)


def _cohort(now: datetime) -> Cohort:
    zone = zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
    start = _next_may(now).astimezone(zone).date().replace(month=8, day=1)
    return Cohort(pk=SAMPLE_ID, title="Year-long Affinity Group Cohort", slug="year-long-cohort", start_month=start,
                  platform="Zoom", status=Cohort.Status.COMING_SOON)


def _entry(cohort: Cohort, **changes) -> WaitlistEntry:
    fields = dict(pk=SAMPLE_ID, cohort=cohort, name="Priya Natarajan", email="priya@district.example",
                  role=Order.Role.DISTRICT_LEADER, organisation="Riverside USD")
    fields.update(changes)
    return WaitlistEntry(**fields)


def _order_context(now):
    workshop = _workshop(now)
    order = _order(workshop, now)
    seats = [_seat(order, 1, "Maya Johnson"), _seat(order, 2, "Luis Ortega"), *[_seat(order, n, "") for n in (3, 4, 5)]]
    return {"order": order, "seats": seats, "sessions": workshop.session_list, "workshop": workshop}


def _seat_context(now):
    workshop = _workshop(now)
    order = _order(workshop, now)
    seat = _seat(order)
    seat.prework_minutes_done, seat.prework_minutes_total = 60, 120
    return {"seat": seat, "order": order, "workshop": workshop, "sessions": workshop.session_list,
            "session": workshop.session_list[0], "first_session": workshop.first_session}


def _reminder_context(breakout: str):
    """A session reminder: with the attendee's planned breakout room, without a choice yet, or with no groups."""

    def build(now):
        context = _seat_context(now)
        workshop, seat = context["workshop"], context["seat"]
        group = AffinityGroup(pk=SAMPLE_ID, workshop=workshop, label="Multiracial")
        context["breakout"] = SeatBreakout(
            offered=breakout != "no affinity groups", group=group if breakout == "room planned" else None,
            room_name="Multiracial 2" if breakout == "room planned" else "", zoom_email=seat.attendee_email,
            not_attending=False, choice_open=True,
        )
        return context

    return build


def _invoice_context(to_billing: bool):
    def build(now):
        workshop = _workshop(now)
        order = _invoice_order(workshop, now)
        return {"order": order, "page": order, "workshop": workshop, "to_billing": to_billing}

    return build


def _refund_context(seats: int, amount: int, note: str = ""):
    """A 5-seat team at $100 a seat refunding `seats` of them; `note` when the seats kept were priced again."""

    def build(now):
        workshop = _workshop(now)
        order = _order(workshop, now, refunded_seat_count=seats)
        refund = Refund(pk=SAMPLE_ID, order=order, seat_count=seats, amount_cents=amount, created_at=now,
                        withheld_cents=10000 * seats - amount, pricing_note=note)
        paid = Payment(pk=SAMPLE_ID, order=order, amount_cents=order.total_cents, status=Payment.Status.ACCEPTED, received_at=now)
        paid.refunded_cents = refund.amount_cents
        refunded = [_seat(order, position, "Luis Ortega" if position == 5 else "") for position in range(6 - seats, 6)]
        return {"order": order, "refund": refund, "workshop": workshop, "money": OrderMoney(payments=[paid], refunds=[refund]),
                "seats": refunded}

    return build


REPRICED = ("4 seats kept cost $480.00 at the single-seat price ($120.00 each); $20.00 is refunded and $80.00 stays "
            "toward the seats kept.")
NOTHING_BACK = ("4 seats kept cost $480.00 at the single-seat price ($120.00 each), and the order has kept $480.00, so "
                "no money comes back: the seats are cancelled.")


def _oversold_context(why: str):
    def build(now):
        workshop = _workshop(now)
        order = _order(workshop, now, status=Order.Status.REFUNDED, seat_count=1, total_cents=12000)
        return {"order": order, "page": order, "workshop": workshop, "amount_cents": 12000, "why": why,
                "paid_outside_stripe": False}

    return build


def _review_context(now):
    workshop = _workshop(now)
    note = "Stripe reported a payment of $1.00 (USD) for this order, which costs $500.00; nothing was fulfilled."
    order = _order(workshop, now, status=Order.Status.PENDING, paid_at=None, payment_needs_review=True)
    return {"order": order, "workshop": workshop, "note": note}


def _cancelled_context(now):
    workshop = _workshop(now)
    order = _order(workshop, now, status=Order.Status.CANCELLED, paid_at=None, closed_at=now)
    return {"order": order, "page": order, "workshop": workshop}


def _released_context(handed_over: bool, no_money: bool = False):
    """The previous holder of a seat: it was given to someone else, or their address was corrected (or, for a seat
    cancelled, whether money came back for it)."""

    def build(now):
        workshop = _workshop(now)
        return {"name": "Luis Ortega", "order": _order(workshop, now), "workshop": workshop, "handed_over": handed_over,
                "no_money": no_money}

    return build


def _second_registration_context(now):
    workshop = _workshop(now)
    existing = _order(workshop, now)
    new_order = _order(workshop, now, pk=SAMPLE_ID + 1, reference="ESL-SAMPLE24", seat_count=2, status=Order.Status.PENDING)
    return {"existing": existing, "new_order": new_order, "workshop": workshop}


def _addition_context(now):
    workshop = _workshop(now)
    order = _order(workshop, now, seat_count=7, total_cents=70000)
    addition = _order(workshop, now, pk=SAMPLE_ID + 1, reference="ESL-SAMPLE24", seat_count=2, total_cents=20000,
                      kind=Order.Kind.ADDITION, parent=order)
    return {"order": order, "addition": addition, "workshop": workshop}


def _waitlist_context(outcome: str):
    def build(now):
        cohort = _cohort(now)
        return {"entry": _entry(cohort), "cohort": cohort, "outcome": outcome, "place": 12}

    return build


def _email_change_context(now):
    path = reverse("cohorts:waitlist_confirm_email", kwargs={"token": "sample-link"})
    return {"cohort": _cohort(now), "confirm_path": path, "days": settings.WAITLIST_EMAIL_CHANGE_DAYS}


def _links_context(found: bool):
    def build(now):
        workshop = _workshop(now)
        order = _order(workshop, now)
        cohort = _cohort(now)
        links = LinksForEmail(orders=[order], seats=[_seat(order)], waitlist_entries=[_entry(cohort)]) if found else (
            LinksForEmail(orders=[], seats=[], waitlist_entries=[])
        )
        return {"links": links, "email": "maya.johnson@lincoln.example"}

    return build


def _invitation_context(now):
    cohort = _cohort(now)
    return {"entry": _entry(cohort, kind=WaitlistEntry.Kind.TEAM, team_size=4), "cohort": cohort}


def _alert_context(now):
    return {"workshop": _workshop(now)}


# (app, template) -> (title, when it is sent, {variant: sample context builder}); the first variant is the default.
CATALOGUE: dict[tuple[str, str], tuple[str, str, dict[str, Callable]]] = {
    ("registrations", "order_confirmation"): ("Registration confirmed", "To the buyer when an order is paid.", {"": _order_context}),
    ("registrations", "seat_welcome"): ("Your seat (welcome)", "To each named attendee, and to a new attendee when a seat changes hands.", {"": _seat_context}),
    ("registrations", "seats_added"): ("Seats added", "To the buyer when seats added to a paid order are paid.", {"": _addition_context}),
    ("registrations", "refund_made"): ("Refund made", "To the buyer when staff refund seats, or a refund is made in Stripe.", {"": _refund_context(1, 10000), "seats kept priced again": _refund_context(1, 2000, REPRICED)}),
    ("registrations", "seats_cancelled"): ("Seats cancelled, no refund", "To the buyer when staff refund seats and nothing comes back: the seats the order keeps cost what it kept.", {"": _refund_context(1, 0, NOTHING_BACK)}),
    ("registrations", "order_cancelled"): ("Order cancelled", "To the buyer when an unpaid order is cancelled (checkout left, invoice voided, added seats withdrawn).", {"": _cancelled_context}),
    ("registrations", "seat_released"): ("Your link stopped working", "To the previous attendee when the team lead gives their seat to someone else, or corrects its email (the new address gets the welcome).", {"given to someone else": _released_context(True), "email corrected": _released_context(False)}),
    ("registrations", "seat_refunded"): ("Your seat was cancelled", "To an attendee (other than the buyer) whose seat staff refund; the buyer gets the refund email.", {"refunded": _released_context(False), "no money back": _released_context(False, True)}),
    ("registrations", "second_registration"): ("You already have an order", "To a buyer's address when a second registration for the same workshop is started with it (at most once a day).", {"": _second_registration_context}),
    ("registrations", "oversold_refund"): ("Paid too late: refunded", "To the buyer when a payment could not stand and was returned in full.", {"arrived too late": _oversold_context("late"), "order had changed": _oversold_context("changed")}),
    ("registrations", "payment_review"): ("Payment needs review (to staff)", "To staff when a payment does not match its order, or a dispute is opened.", {"": _review_context}),
    ("registrations", "seat_alert"): ("Seats have opened up", "To people who asked to be told when a sold-out workshop has seats again.", {"": _alert_context}),
    ("registrations", "prework_reminder"): ("Pre-work reminder", "To attendees with pre-work left, a few days before the first session.", {"": _seat_context}),
    ("registrations", "session_reminder"): ("Session reminder", "To every attendee, the day before each session.", {v: _reminder_context(v) for v in ("room planned", "not chosen yet", "no affinity groups")}),
    ("registrations", "invoice_issued"): ("Invoice sent", "To the billing contact (and the buyer) when an invoice is issued.", {"billing": _invoice_context(True), "buyer": _invoice_context(False)}),
    ("registrations", "invoice_reminder"): ("Invoice reminder", "A few days before an unpaid invoice's seat hold ends.", {"billing": _invoice_context(True), "buyer": _invoice_context(False)}),
    ("registrations", "invoice_lapsed"): ("Invoice not paid: seats released", "When an unpaid invoice's seat hold ends.", {"billing": _invoice_context(True), "buyer": _invoice_context(False)}),
    ("cohorts", "waitlist_link"): ("Your waitlist link", "When someone joins the course waitlist, types an address already on it, or moves their entry to a new address.", {o: _waitlist_context(o) for o in ("joined", "existing", "moved")}),
    ("cohorts", "waitlist_email_change"): ("Confirm a new waitlist address", "To the new address when someone asks to move their waitlist entry to it.", {"": _email_change_context}),
    ("cohorts", "waitlist_invitation"): ("Invitation to the course", "When staff invite someone from the waitlist.", {"": _invitation_context}),
    ("support", "my_links"): ("Your links", "To any address typed on the \"Email me my links\" page: its orders, seats and waitlist places, or that there are none.", {"links found": _links_context(True), "nothing found": _links_context(False)}),
}


def render(*, app: str, name: str, variant: str = "", now: datetime | None = None) -> Preview:
    """Raises UnknownPreview."""
    try:
        title, sent_when, variants = CATALOGUE[(app, name)]
    except KeyError as exc:
        raise UnknownPreview(f"No email called {app}/{name}.") from exc
    if variant not in variants:
        variant = next(iter(variants))
    context = variants[variant](now or timezone.now())
    # As queue_emails builds what is sent: the text with the site's footer, and an HTML part from that text.
    text = with_footer(render_body(f"{app}/email/{name}", context))
    return Preview(app=app, name=name, title=title, sent_when=sent_when, variant=variant,
                   variants=tuple(v for v in variants if v), text=text, html=html_version(subject=title, body=text))


def catalogue() -> list[dict]:
    return [
        {"title": title, "sent_when": when, "url": reverse("admin:staff_email_preview", kwargs={"app": app, "name": name}),
         "template": f"{app}/email/{name}"}
        for (app, name), (title, when, _) in CATALOGUE.items()
    ]


def navigation_entry() -> dict:
    """The previews' line in the "Run the workshop" section: open to every staff member (sample data only)."""
    return {
        "name": "Email previews",
        "object_name": "EmailPreview",
        "perms": {"view": True},
        "admin_url": reverse("admin:staff_email_previews"),
        "add_url": None,
        "view_only": True,
    }
