"""Emails about orders and seats. Bodies live in templates/registrations/email/."""

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from workshops.site import site_url
from workshops.templatetags.workshop_tags import usd

from .email_layout import html_version, links_page_url, with_footer
from .models import Order, OutboundEmail, Payment, Refund, ReminderSent, Seat, SeatAlert, is_erased_address
from .outbox import deliver_emails
from .selectors.breakout import breakout_for_seat
from .selectors.ledger import order_money
from .selectors.progress import prework_minutes_done, prework_minutes_total

logger = logging.getLogger(__name__)


def queue_emails(messages: list[tuple[str, str, str, str]]) -> int:
    """Record emails (key, to, subject, body) and schedule their delivery, in the caller's transaction.

    Each body gets the site's footer (contact address, lost-links page) and an HTML alternative
    made from the same text. One INSERT for the rows and one for the delivery task, however many
    emails; the database backend writes the task in this same transaction, so both commit or
    neither. A key already queued is skipped. Returns how many rows were offered.
    """
    # Nobody is behind an erased person's placeholder address (staff erased them on request).
    messages = [m for m in messages if not is_erased_address(m[1])]
    if not messages:
        return 0
    rows = []
    for key, to, subject, body in messages:
        text = with_footer(body)
        rows.append(
            OutboundEmail(
                key=key[:200], to_address=to, subject=subject[:300], body=text,
                html_body=html_version(subject=subject, body=text),
            )
        )
    OutboundEmail.objects.bulk_create(rows, ignore_conflicts=True)
    deliver_emails.enqueue([key[:200] for key, *_ in messages])
    return len(messages)


def queue_email(*, key: str, to: str, subject: str, body: str) -> None:
    """Record one email and schedule its delivery, inside the caller's transaction."""
    queue_emails([(key, to, subject, body)])


def render_body(template: str, context: dict) -> str:
    """A plain-text email body from `<app>/email/<name>.txt`, with the site's name and address at hand."""
    context = {
        "site_url": site_url(),
        "site_name": settings.SITE_NAME,
        "contact_email": settings.CONTACT_EMAIL,
        "links_url": links_page_url(),
        **context,
    }
    return render_to_string(f"{template}.txt", context)


def _render(template: str, context: dict) -> str:
    return render_body(f"registrations/email/{template}", context)


def _send(*, to: str, subject: str, template: str, context: dict, key: str | None = None) -> None:
    queue_email(key=key or f"{template}:{uuid.uuid4()}", to=to, subject=subject, body=_render(template, context))


def _welcome(seat: Seat, order: Order, sessions: list, resend: bool) -> tuple[str, str, str, str]:
    key = f"seat_welcome:{seat.pk}:{uuid.uuid4()}" if resend else f"seat_welcome:{seat.pk}:{seat.token}:{seat.attendee_email.lower()}"
    body = _render("seat_welcome", {"seat": seat, "order": order, "workshop": order.workshop, "sessions": sessions})
    return key, seat.attendee_email, f"Your seat at {order.workshop.title}", body


def send_order_confirmation(*, order_id: int | None = None, order: Order | None = None, resend: bool = False) -> None:
    """The buyer's confirmation and a welcome to every other named attendee, queued together."""
    if order is None:
        order = Order.objects.select_related("workshop").get(pk=order_id)
    seats = list(order.seats.filter(status=Seat.Status.ACTIVE).order_by("position"))
    sessions = order.workshop.session_list
    confirmation = _render(
        "order_confirmation", {"order": order, "seats": seats, "sessions": sessions, "workshop": order.workshop}
    )
    messages = [
        (
            f"order_confirmation:{order.pk}:{uuid.uuid4()}" if resend else f"order_confirmation:{order.pk}",
            order.buyer_email,
            f"You're registered: {order.workshop.title} ({order.reference})",
            confirmation,
        )
    ]
    welcomed = [s for s in seats if s.attendee_email and s.attendee_email.lower() != order.buyer_email.lower()]
    for seat in welcomed:
        seat.order = order
        messages.append(_welcome(seat, order, sessions, resend))
    queue_emails(messages)
    if welcomed:
        Seat.objects.filter(pk__in=[s.pk for s in welcomed]).update(welcome_sent_at=timezone.now())


def send_seat_welcome(*, seat_id: int, resend: bool = False) -> None:
    seat = Seat.objects.select_related("order__workshop").get(pk=seat_id)
    if not seat.attendee_email:
        return
    queue_emails([_welcome(seat, seat.order, seat.order.workshop.session_list, resend)])
    Seat.objects.filter(pk=seat_id).update(welcome_sent_at=timezone.now())


def send_seat_welcomes(*, order: Order, seats: list[Seat]) -> None:
    """Welcome several newly named attendees at once (the lead named them from a list)."""
    sessions = order.workshop.session_list
    queue_emails([_welcome(seat, order, sessions, resend=False) for seat in seats if seat.attendee_email])


def send_second_registration_notice(*, existing: Order, new_order: Order, day) -> None:
    """Tell the address that already has `existing` that a second registration was started with it."""
    _send(
        to=existing.buyer_email,
        subject=f"You already have order {existing.reference} for {existing.workshop.title}",
        template="second_registration",
        context={"existing": existing, "new_order": new_order, "workshop": existing.workshop},
        key=f"second_registration:{existing.pk}:{day.isoformat()}",
    )


def send_seat_released(*, seat: Seat, name: str, email: str, handed_over: bool) -> None:
    """Tell the previous holder of a seat that their link stopped working: given to someone else, or moved to a new address."""
    order = seat.order
    _send(
        to=email,
        subject=f"Your seat at {order.workshop.title} has {'been given to someone else' if handed_over else 'a new link'}",
        template="seat_released",
        context={"name": name, "order": order, "workshop": order.workshop, "handed_over": handed_over},
        key=f"seat_released:{seat.pk}:{seat.token}",
    )


def send_seat_refunded(*, seat: Seat, order: Order, no_money: bool = False) -> None:
    """Tell an attendee that the seat they held was cancelled and refunded to whoever paid for it (no amounts), or,
    `no_money`, cancelled with nothing refunded because the seats the order keeps cost what was paid."""
    _send(
        to=seat.attendee_email,
        subject=f"Your seat at {order.workshop.title} has been cancelled",
        template="seat_refunded",
        context={"name": seat.attendee_name, "order": order, "workshop": order.workshop, "no_money": no_money},
        key=f"seat_refunded:{seat.pk}",
    )


def send_oversold_refund_notice(*, order_id: int, amount_cents: int, why: str, paid_outside_stripe: bool = False) -> None:
    """The buyer's payment could not stand (`why`: "late", the seats or code were gone when it arrived after the
    hold; "changed", the order the seats were for changed meanwhile) and was refunded in full."""
    order = Order.objects.select_related("workshop", "parent").get(pk=order_id)
    _send(
        to=order.buyer_email,
        subject=f"Your payment for {order.workshop.title} has been refunded",
        template="oversold_refund",
        context={
            "order": order, "page": order.parent or order, "workshop": order.workshop, "amount_cents": amount_cents,
            "why": why, "paid_outside_stripe": paid_outside_stripe,
        },
        key=f"oversold_refund:{order.pk}",
    )


def send_payment_review(*, order_id: int, note: str, key: str) -> None:
    """One email to staff about a payment or dispute to look at (the order is flagged in admin too)."""
    order = Order.objects.select_related("workshop").get(pk=order_id)
    _send(
        to=settings.STAFF_ALERT_EMAIL,
        subject=f"Payment needs review: {order.reference} ({order.workshop.title})",
        template="payment_review",
        context={"order": order, "workshop": order.workshop, "note": note},
        key=key,
    )


def send_seat_alerts(*, workshop_id: int) -> None:
    """Tell everyone waiting for a sold-out workshop that seats came free, once each."""
    with transaction.atomic():
        alerts = list(
            SeatAlert.objects.select_for_update(skip_locked=True)
            .select_related("workshop")
            .filter(workshop_id=workshop_id, notified_at__isnull=True)
        )
        if not alerts:
            return
        SeatAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(notified_at=timezone.now())
        for alert in alerts:
            _send(
                to=alert.email,
                subject=f"Seats have opened up: {alert.workshop.title}",
                template="seat_alert",
                context={"workshop": alert.workshop},
                key=f"seat_alert:{alert.pk}",
            )


def send_prework_reminder(*, reminder_id: int) -> None:

    reminder = ReminderSent.objects.get(pk=reminder_id)
    seat = (
        Seat.objects.select_related("order__workshop")
        .annotate(prework_minutes_done=prework_minutes_done(), prework_minutes_total=prework_minutes_total())
        .get(pk=reminder.seat_id)
    )
    workshop = seat.order.workshop
    _send(
        to=reminder.email,
        subject=f"Pre-work for {workshop.title}: a reminder",
        template="prework_reminder",
        context={"seat": seat, "workshop": workshop, "first_session": workshop.first_session},
        key=f"reminder:{reminder.pk}",
    )


def send_session_reminder(*, reminder_id: int) -> None:
    reminder = ReminderSent.objects.select_related("seat__order__workshop", "session").get(pk=reminder_id)
    seat, session = reminder.seat, reminder.session
    workshop = seat.order.workshop
    _send(
        to=reminder.email,
        subject=f"Reminder: {workshop.title}, {session.title.lower()} on {timezone.localtime(session.starts_at, workshop.tz):%A, %B %-d}",
        template="session_reminder",
        context={"seat": seat, "workshop": workshop, "session": session, "breakout": breakout_for_seat(session=session, seat=seat)},
        key=f"reminder:{reminder.pk}",
    )


def _invoice_recipients(order: Order) -> list[tuple[str, str]]:
    """The billing contact, and the buyer too when someone else pays: (label for the key, address)."""
    recipients = [("billing", order.billing_email or order.buyer_email)]
    if order.buyer_email.lower() != recipients[0][1].lower():
        recipients.append(("buyer", order.buyer_email))
    return recipients


def _invoice_email(*, order_id: int, template: str, subject: str) -> None:
    order = Order.objects.select_related("workshop", "parent").get(pk=order_id)
    page = order.parent if order.parent_id else order
    for label, address in _invoice_recipients(order):
        _send(
            to=address,
            subject=subject.format(title=order.workshop.title, reference=order.reference, number=order.invoice_number),
            template=template,
            context={"order": order, "page": page, "workshop": order.workshop, "to_billing": label == "billing"},
            key=f"{template}:{order.pk}:{label}",
        )


def send_invoice_issued(*, order_id: int) -> None:
    _invoice_email(order_id=order_id, template="invoice_issued", subject="Invoice {number} for {title}: your seats are held")


def send_invoice_reminder(*, order_id: int) -> None:
    _invoice_email(order_id=order_id, template="invoice_reminder", subject="Reminder: invoice {number} for {title} is due soon")


def send_invoice_lapsed(*, order_id: int) -> None:
    _invoice_email(order_id=order_id, template="invoice_lapsed", subject="Invoice {number} for {title} was not paid: seats released")


def send_seats_added(*, addition_id: int, paid_cents: int | None = None) -> None:
    """Added seats joined their order; `paid_cents` is what was paid for them when it was more than they cost
    once priced again (the difference is being refunded)."""
    addition = Order.objects.select_related("workshop", "parent").get(pk=addition_id)
    order = addition.parent
    returned = max((paid_cents or 0) - addition.total_cents, 0)
    _send(
        to=order.buyer_email,
        subject=f"Seats added: {addition.workshop.title} ({order.reference})",
        template="seats_added",
        context={"order": order, "addition": addition, "workshop": addition.workshop,
                 "paid_cents": paid_cents if returned else addition.total_cents, "returned_cents": returned},
        key=f"seats_added:{addition.pk}",
    )


def send_refund_made(*, refund_id: int) -> None:
    """To the buyer: how much was refunded, for which seats (each by its attendee's name, else email, else as an unnamed
    seat), why the seats kept were priced again (if they were), and when it reaches their card; seats cancelled with
    nothing to give back get a cancellation instead. Once per refund."""
    refund = (
        Refund.objects.select_related("order__workshop")
        # Whose seats they were, named in the email: one query however many seats (all on the buyer's own order).
        .prefetch_related(Prefetch("seats", queryset=Seat.objects.order_by("position"), to_attr="seats_refunded"))
        .get(pk=refund_id)
    )
    if refund.amount_cents == 0 and (refund.kind != Refund.Kind.SEATS or refund.parts.exists()):
        return  # all of it failed at Stripe (refund.failed) before this was sent: nothing reached the buyer
    order = refund.order
    if refund.amount_cents == 0:  # seats cancelled with nothing to give back: never "refunded $0"
        _send(
            to=order.buyer_email,
            subject=f"Seats cancelled, no refund: {order.workshop.title} ({order.reference})",
            template="seats_cancelled",
            context={"order": order, "refund": refund, "workshop": order.workshop, "money": order_money(order=order),
                     "seats": refund.seats_refunded},
            key=f"refund_made:{refund.pk}",
        )
        return
    seats = refund.seats_refunded
    if not seats and order.status == Order.Status.REFUNDED:
        # A refund of the whole order made in Stripe's dashboard released the seats still booked: those refunded and
        # linked to no seat refund (each seat refund names its own seats, in its own email).
        seats = list(order.seats.filter(status=Seat.Status.REFUNDED, refunds__isnull=True).order_by("position"))
    _send(
        to=order.buyer_email,
        subject=f"Refund of {usd(refund.amount_cents)}: {order.workshop.title} ({order.reference})",
        template="refund_made",
        context={
            "order": order, "refund": refund, "workshop": order.workshop, "money": order_money(order=order),
            "seats": seats,
            # Paid outside Stripe (a cheque or transfer): no refund API returns it, staff send it back the same way.
            "outside_cents": sum(
                p.amount_cents for p in refund.parts.select_related("payment") if p.payment.source == Payment.Source.OUT_OF_BAND
            ),
        },
        key=f"refund_made:{refund.pk}",
    )


def send_order_cancelled(*, order_id: int) -> None:
    """To the buyer when an unpaid order (or seats being added) is cancelled and its seats released."""
    order = Order.objects.select_related("workshop", "parent").get(pk=order_id)
    _send(
        to=order.buyer_email,
        subject=f"Cancelled: {order.workshop.title} ({order.reference})",
        template="order_cancelled",
        context={"order": order, "page": order.parent or order, "workshop": order.workshop},
        key=f"order_cancelled:{order.pk}",
    )
