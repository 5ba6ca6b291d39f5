import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from workshops.models import PreworkModule, Session, Workshop
from workshops.selectors import NoPriceError, PriceQuote, quote_for, workshops_for_catalog

from .models import (
    CERTIFICATE_CODE_LENGTH,
    REFERENCE_ALPHABET,
    Attendance,
    Certificate,
    Order,
    PreworkCompletion,
    RefundPart,
    ReminderSent,
    RosterSeat,
    Seat,
)

# Statuses whose seats are taken for good; pending orders count only while their hold lasts.
SEAT_TAKING_STATUSES = (Order.Status.PAID, Order.Status.PROCESSING)


def seat_taking_orders(*, now: datetime | None = None) -> Q:
    now = now or timezone.now()
    return Q(status__in=SEAT_TAKING_STATUSES) | Q(status=Order.Status.PENDING, hold_expires_at__gt=now)


def seats_taken(*, workshop_id: int, now: datetime | None = None, exclude_order_id: int | None = None) -> int:
    """Paid seats plus seats on holds that have not lapsed."""
    orders = Order.objects.filter(seat_taking_orders(now=now), workshop_id=workshop_id)
    if exclude_order_id is not None:
        orders = orders.exclude(pk=exclude_order_id)
    total = orders.aggregate(n=Sum(F("seat_count") - F("refunded_seat_count")))["n"]
    return total or 0


def seats_available(*, workshop: Workshop, now: datetime | None = None, exclude_order_id: int | None = None) -> int:
    """Seats still free: capacity less paid seats and live holds (other than the excluded order's)."""
    return max(workshop.capacity - seats_taken(workshop_id=workshop.pk, now=now, exclude_order_id=exclude_order_id), 0)


def with_seats_taken(queryset: QuerySet[Workshop], *, now: datetime | None = None) -> QuerySet[Workshop]:
    """Annotate `seats_taken` in the same query, so a page's query count never grows with orders."""
    taken = (
        Order.objects.filter(seat_taking_orders(now=now), workshop=OuterRef("pk"))
        .order_by()
        .values("workshop")
        .annotate(n=Sum(F("seat_count") - F("refunded_seat_count")))
        .values("n")
    )
    return queryset.annotate(seats_taken=Coalesce(Subquery(taken, output_field=IntegerField()), 0))


def catalog_with_availability() -> QuerySet[Workshop]:
    return with_seats_taken(workshops_for_catalog())


def price_for(*, tiers: list, seat_count: int, quote=None) -> PriceQuote:
    """What `seat_count` seats cost: today's tiers, or a still valid quote's price per seat when the
    order is for the seats quoted and the quote is cheaper (a price rise does not touch a quote
    already given; a price cut still reaches the district holding one).

    Raises NoPriceError when neither prices this many seats.
    """
    try:
        today = quote_for(tiers=tiers, seat_count=seat_count)
    except NoPriceError:
        today = None
    if quote is not None and quote.seat_count == seat_count and (
        today is None or quote.unit_price_cents < today.unit_price_cents
    ):
        return PriceQuote.per_seat(
            seat_count=seat_count,
            unit_price_cents=quote.unit_price_cents,
            tier_min_seats=quote.tier_min_seats,
            from_quote=quote.reference,
        )
    if today is None:
        raise NoPriceError(f"No price for {seat_count} seats.")
    return today


# Tokens are secrets.token_urlsafe(32); anything else cannot match, so it never reaches the database
# (PostgreSQL rejects a NUL byte in a query parameter with an error, not "no rows").
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
QUOTE_REFERENCE_PATTERN = re.compile(r"Q-[A-Z0-9]{8}")

# A seat's page exists while its order is paid or on its way to being paid.
SEAT_PAGE_ORDER_STATUSES = (Order.Status.PENDING, Order.Status.PROCESSING, Order.Status.PAID)


def refund_amount_cents(*, order: Order, seat_count: int) -> int:
    """What refunding some seats returns: each seat's share of what the order actually paid.

    Shares are whole cents and add up exactly to the total, so a discounted order never
    refunds more per seat than it paid (without a discount a share is the unit price). A team
    that drops below the team-price seat count keeps its team price; nothing is re-charged.
    Never more than is left to refund.
    """
    done = order.refunded_seat_count
    share = order.total_cents * (done + seat_count) // order.seat_count - order.total_cents * done // order.seat_count
    return max(min(share, order.total_cents - order.refunded_cents), 0)


def order_for_token(token: str) -> Order:
    """Raises Order.DoesNotExist for an unknown or malformed token."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise Order.DoesNotExist
    return Order.objects.select_related("workshop", "voucher", "quote").prefetch_related(
        Prefetch("workshop__sessions", queryset=Session.objects.order_by("starts_at"))
    ).get(token=token)


def seats_for_order(order: Order) -> QuerySet[Seat]:
    return order.seats.order_by("position")


def prework_minutes_done() -> Coalesce:
    """Annotation: minutes of the seat's own workshop's pre-work the seat has marked done."""
    done = (
        PreworkCompletion.objects.filter(seat=OuterRef("pk"), module__workshop=OuterRef("order__workshop"))
        .order_by()
        .values("seat")
        .annotate(minutes=Sum("module__minutes"))
        .values("minutes")
    )
    return Coalesce(Subquery(done, output_field=IntegerField()), 0)


def prework_minutes_total() -> Coalesce:
    """Annotation: minutes of pre-work the seat's workshop asks for."""
    total = (
        PreworkModule.objects.filter(workshop=OuterRef("order__workshop"))
        .order_by()
        .values("workshop")
        .annotate(minutes=Sum("minutes"))
        .values("minutes")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


def seat_changes_open(*, workshop: Workshop, now: datetime | None = None) -> bool:
    """Team leads may name or change seats until the workshop's deadline before the first session."""
    closes = workshop.seat_changes_close_at()
    return closes is None or (now or timezone.now()) < closes


@dataclass(frozen=True)
class OrderOverview:
    order: Order
    seats: list[Seat]  # each with prework_minutes_done; never anything about access needs on the page
    prework_minutes_total: int
    changes_close_at: datetime | None
    changes_open: bool
    payments: list["OrderPayment"] | None = None  # only for an order that grew: each payment, for the receipt
    pending_addition: Order | None = None  # seats added and not yet paid for

    @property
    def can_change_seats(self) -> bool:
        return self.order.is_paid and self.changes_open

    @property
    def can_add_seats(self) -> bool:
        return self.can_change_seats and self.order.kind == Order.Kind.PURCHASE and self.pending_addition is None


def order_overview(*, order: Order, now: datetime | None = None) -> OrderOverview:
    """What the buyer's order page shows, in a fixed number of queries."""
    seats = list(order.seats.order_by("position").annotate(prework_minutes_done=prework_minutes_done()))
    for seat in seats:
        seat.order = order  # the page reads seat.order; reuse the one already loaded
    total = PreworkModule.objects.filter(workshop_id=order.workshop_id).aggregate(n=Sum("minutes"))["n"] or 0
    workshop = order.workshop
    additions = list(order.additions.filter(Q(status=Order.Status.MERGED) | seat_taking_orders(now=now)))
    merged = [a for a in additions if a.status == Order.Status.MERGED]
    pending = [a for a in additions if a.status != Order.Status.MERGED]
    return OrderOverview(
        order=order,
        seats=seats,
        prework_minutes_total=total,
        changes_close_at=workshop.seat_changes_close_at(),
        changes_open=seat_changes_open(workshop=workshop, now=now),
        payments=order_payments(order=order) if merged else None,
        pending_addition=max(pending, key=lambda a: a.created_at) if pending else None,
    )


def active_seat_of_order(*, order: Order, position: int) -> Seat:
    """Raises Seat.DoesNotExist when the order has no active seat at that position."""
    return order.seats.get(position=position, status=Seat.Status.ACTIVE)


def seat_for_token(token: str) -> Seat:
    """An attendee's seat with its workshop, sessions and pre-work loaded.

    Raises Seat.DoesNotExist for a malformed, unknown, refunded or replaced token, or an
    order that was never paid (expired, cancelled, failed) or was refunded.
    """
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise Seat.DoesNotExist
    return (
        Seat.objects.select_related("order__workshop")
        .prefetch_related(
            Prefetch("order__workshop__sessions", queryset=Session.objects.order_by("starts_at")),
            Prefetch("order__workshop__prework_modules", queryset=PreworkModule.objects.order_by("position", "id")),
        )
        .get(token=token, status=Seat.Status.ACTIVE, order__status__in=SEAT_PAGE_ORDER_STATUSES)
    )


@dataclass(frozen=True)
class PreworkItem:
    module: PreworkModule
    done: bool


@dataclass(frozen=True)
class SessionAccess:
    number: int
    session: Session
    link_opens_at: datetime
    link_visible: bool  # paid, inside the window, and staff have set a link
    has_ended: bool


@dataclass(frozen=True)
class Completion:
    """How far a seat is towards its certificate."""

    is_paid_seat: bool
    prework_modules_done: int
    prework_modules_total: int
    sessions_attended: int
    sessions_total: int

    @property
    def prework_finished(self) -> bool:
        return self.prework_modules_done >= self.prework_modules_total

    @property
    def sessions_finished(self) -> bool:
        return self.sessions_total > 0 and self.sessions_attended >= self.sessions_total

    @property
    def is_complete(self) -> bool:
        """Certificate-worthy: a paid seat that finished every pre-work module and attended every session."""
        return self.is_paid_seat and self.prework_finished and self.sessions_finished


def completion_for_seat(seat: Seat) -> Completion:
    workshop_id = seat.order.workshop_id
    return Completion(
        is_paid_seat=seat.status == Seat.Status.ACTIVE and seat.order.status == Order.Status.PAID,
        prework_modules_done=seat.prework_completions.filter(module__workshop_id=workshop_id).count(),
        prework_modules_total=PreworkModule.objects.filter(workshop_id=workshop_id).count(),
        sessions_attended=seat.attendances.filter(session__workshop_id=workshop_id).count(),
        sessions_total=Session.objects.filter(workshop_id=workshop_id).count(),
    )


@dataclass(frozen=True)
class SeatOverview:
    seat: Seat
    prework: list[PreworkItem]
    prework_minutes_done: int
    prework_minutes_total: int
    sessions: list[SessionAccess]
    completion: Completion
    certificate: Certificate | None

    @property
    def prework_finished(self) -> bool:
        return all(item.done for item in self.prework)

    @property
    def certificate_available(self) -> bool:
        return self.completion.is_complete and not (self.certificate and self.certificate.is_revoked)


def session_access(*, seat: Seat, now: datetime | None = None) -> list[SessionAccess]:
    """Each session of the seat's workshop and whether its meeting link may be shown now.

    A link shows only on a paid order, from `session_link_lead_minutes` before the start until the end.
    """
    now = now or timezone.now()
    workshop = seat.order.workshop
    lead = timedelta(minutes=workshop.session_link_lead_minutes)
    rows = []
    for number, session in enumerate(workshop.session_list, start=1):
        opens_at = session.starts_at - lead
        rows.append(
            SessionAccess(
                number=number,
                session=session,
                link_opens_at=opens_at,
                link_visible=seat.order.is_paid and bool(session.meeting_url) and opens_at <= now < session.ends_at,
                has_ended=now >= session.ends_at,
            )
        )
    return rows


def seat_overview(*, seat: Seat, now: datetime | None = None) -> SeatOverview:
    """What an attendee's page shows: their own pre-work and sessions, nothing about other seats."""
    workshop = seat.order.workshop
    modules = list(workshop.prework_modules.all())
    done_ids = set(seat.prework_completions.filter(module__in=modules).values_list("module_id", flat=True))
    attended = seat.attendances.filter(session__workshop_id=workshop.pk).count()
    items = [PreworkItem(module=m, done=m.pk in done_ids) for m in modules]
    return SeatOverview(
        seat=seat,
        prework=items,
        prework_minutes_done=sum(i.module.minutes for i in items if i.done),
        prework_minutes_total=sum(m.minutes for m in modules),
        sessions=session_access(seat=seat, now=now),
        completion=Completion(
            is_paid_seat=seat.order.is_paid,
            prework_modules_done=len(done_ids),
            prework_modules_total=len(modules),
            sessions_attended=attended,
            sessions_total=len(workshop.session_list),
        ),
        certificate=Certificate.objects.filter(seat=seat).first(),
    )


def prework_module_for_seat(*, seat: Seat, module_id: int) -> PreworkModule:
    """Raises PreworkModule.DoesNotExist when the module is not part of the seat's workshop."""
    return PreworkModule.objects.get(pk=module_id, workshop_id=seat.order.workshop_id)


def session_for_seat(*, seat: Seat, number: int) -> Session:
    """The seat's workshop's session by its number (1 = first). Raises Session.DoesNotExist."""
    sessions = seat.order.workshop.session_list
    if not 1 <= number <= len(sessions):
        raise Session.DoesNotExist
    return sessions[number - 1]


def emails_meeting_prerequisite(*, workshop_id: int, emails: list[str]) -> set[str]:
    """Which of these emails (compared lower-cased) hold a seat on a paid order of the workshop, or attended it."""
    from django.db.models.functions import Lower

    wanted = {e.strip().lower() for e in emails if e}
    if not wanted:
        return set()
    seats = (
        Seat.objects.annotate(email_lower=Lower("attendee_email"))
        .filter(order__workshop_id=workshop_id, email_lower__in=wanted)
        .filter(Q(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID) | Q(attendances__isnull=False))
        .values_list("email_lower", flat=True)
        .distinct()
    )
    return set(seats)


def attendee_seats() -> QuerySet[Seat]:
    """Named, active seats of paid orders: the people who come to the workshop."""
    return Seat.objects.filter(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID).exclude(attendee_email="")


def seats_due_prework_reminder(*, now: datetime, days_before: int) -> QuerySet[Seat]:
    """Attendees with pre-work left whose first session is at most `days_before` days away and not yet begun."""
    first_start = (
        Session.objects.filter(workshop=OuterRef("order__workshop")).order_by("starts_at").values("starts_at")[:1]
    )
    already = ReminderSent.objects.filter(seat=OuterRef("pk"), kind=ReminderSent.Kind.PREWORK)
    return (
        attendee_seats()
        .annotate(
            first_session_starts_at=Subquery(first_start),
            prework_minutes_done=prework_minutes_done(),
            prework_minutes_total=prework_minutes_total(),
        )
        .filter(
            first_session_starts_at__gt=now,
            first_session_starts_at__lte=now + timedelta(days=days_before),
            prework_minutes_done__lt=F("prework_minutes_total"),
        )
        .exclude(Exists(already))
        .select_related("order__workshop")
        .order_by("pk")
    )


def sessions_due_reminder(*, now: datetime, hours_before: int) -> QuerySet[Session]:
    """Sessions starting within the next `hours_before` hours."""
    return (
        Session.objects.filter(starts_at__gt=now, starts_at__lte=now + timedelta(hours=hours_before))
        .select_related("workshop")
        .order_by("starts_at")
    )


def seats_due_session_reminder(*, session: Session) -> QuerySet[Seat]:
    already = ReminderSent.objects.filter(seat=OuterRef("pk"), kind=ReminderSent.Kind.SESSION, session=session)
    return (
        attendee_seats()
        .filter(order__workshop_id=session.workshop_id)
        .exclude(Exists(already))
        .select_related("order__workshop")
        .order_by("pk")
    )


def certificate_for_code(code: str) -> Certificate:
    """A certificate by its verification code, forgiving case, spaces and dashes.

    Raises Certificate.DoesNotExist for an unknown or malformed code.
    """
    normalised = (code or "").replace("-", "").replace(" ", "").upper()
    if len(normalised) != CERTIFICATE_CODE_LENGTH or any(c not in REFERENCE_ALPHABET for c in normalised):
        raise Certificate.DoesNotExist
    return (
        Certificate.objects.select_related("seat__order__workshop")
        .prefetch_related(Prefetch("seat__order__workshop__sessions", queryset=Session.objects.order_by("starts_at")))
        .get(code=normalised)
    )


def _nth_session_id(n: int) -> Subquery:
    """Annotation: the id of the n-th (1-based) session of the seat's workshop."""
    ids = Session.objects.filter(workshop=OuterRef("order__workshop")).order_by("starts_at", "pk").values("pk")
    return Subquery(ids[n - 1 : n])


def roster(queryset: QuerySet[Seat] | None = None) -> QuerySet[RosterSeat]:
    """Active seats of paid orders with pre-work minutes, attendance at sessions 1 and 2 and the
    certificate, all annotated in one query so the admin roster and its CSV cost the same for any size."""
    queryset = queryset if queryset is not None else RosterSeat.objects.all()
    certificate = Certificate.objects.filter(seat=OuterRef("pk"))
    return (
        queryset.filter(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID)
        .select_related("order__workshop")
        .annotate(
            prework_minutes_done=prework_minutes_done(),
            prework_minutes_total=prework_minutes_total(),
            session_1_id=_nth_session_id(1),
            session_2_id=_nth_session_id(2),
        )
        .annotate(
            attended_1=Exists(Attendance.objects.filter(seat=OuterRef("pk"), session=OuterRef("session_1_id"))),
            attended_2=Exists(Attendance.objects.filter(seat=OuterRef("pk"), session=OuterRef("session_2_id"))),
            certificate_code=Subquery(certificate.values("code")[:1]),
            certificate_revoked_at=Subquery(certificate.values("revoked_at")[:1]),
        )
    )


@dataclass(frozen=True)
class WorkshopStats:
    workshop: Workshop
    seats_sold: int
    seats_held: int
    revenue_cents: int
    refunded_cents: int
    orders_paid: int

    @property
    def seats_left(self) -> int:
        return max(self.workshop.capacity - self.seats_sold - self.seats_held, 0)


def _order_sum(expression, *, condition: Q) -> Coalesce:
    rows = (
        Order.objects.filter(condition, workshop=OuterRef("pk"))
        .order_by()
        .values("workshop")
        .annotate(n=Sum(expression))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def workshop_dashboard(*, now: datetime | None = None) -> list[WorkshopStats]:
    """Per workshop: seats sold (paid), held (live holds and payments still clearing), left, and
    revenue net of refunds, in one query however many orders there are."""
    now = now or timezone.now()
    active_seats = F("seat_count") - F("refunded_seat_count")
    held = Q(status=Order.Status.PROCESSING) | Q(status=Order.Status.PENDING, hold_expires_at__gt=now)
    took_money = Q(status__in=(Order.Status.PAID, Order.Status.REFUNDED))
    workshops = (
        Workshop.objects.annotate(
            seats_sold=_order_sum(active_seats, condition=Q(status=Order.Status.PAID)),
            seats_held=_order_sum(active_seats, condition=held),
            revenue_cents=_order_sum(F("total_cents") - F("refunded_cents"), condition=took_money),
            refunded_total_cents=_order_sum(F("refunded_cents"), condition=took_money),
            orders_paid=_order_sum(Value(1), condition=Q(status=Order.Status.PAID)),
        )
        .prefetch_related(Prefetch("sessions", queryset=Session.objects.order_by("starts_at")))
        .order_by("-created_at")
    )
    return [
        WorkshopStats(
            workshop=w,
            seats_sold=w.seats_sold,
            seats_held=w.seats_held,
            revenue_cents=w.revenue_cents,
            refunded_cents=w.refunded_total_cents,
            orders_paid=w.orders_paid,
        )
        for w in workshops
    ]


def voucher_uses(*, voucher_id: int, now: datetime | None = None, exclude_order_id: int | None = None) -> int:
    """Orders paid with the code, or holding it on a live hold: uses are reserved like seats."""
    orders = Order.objects.filter(seat_taking_orders(now=now), voucher_id=voucher_id)
    if exclude_order_id is not None:
        orders = orders.exclude(pk=exclude_order_id)
    return orders.count()


def voucher_used_up(*, voucher, now: datetime | None = None, exclude_order_id: int | None = None) -> bool:
    """Whether every use the code allows is taken (by orders other than the excluded one)."""
    return voucher.max_uses is not None and (
        voucher_uses(voucher_id=voucher.pk, now=now, exclude_order_id=exclude_order_id) >= voucher.max_uses
    )


def valid_quote(*, workshop: Workshop, reference: str, now: datetime | None = None) -> "Quote | None":
    """A quote for this workshop that has not run out, by its reference (any case)."""
    from .models import Quote

    reference = (reference or "").strip().upper()
    if not QUOTE_REFERENCE_PATTERN.fullmatch(reference):
        return None
    return (
        Quote.objects.select_related("voucher")
        .filter(workshop=workshop, reference=reference, valid_until__gt=now or timezone.now())
        .first()
    )


# --- Invoices and orders that grew -----------------------------------------------------------


def invoice_orders_due_reminder(*, now: datetime, days_before: int) -> QuerySet[Order]:
    """Sent, unpaid invoices whose seat hold lapses within `days_before` days and that had no reminder yet."""
    return Order.objects.filter(
        payment_method=Order.PaymentMethod.INVOICE,
        status=Order.Status.PENDING,
        invoice_status=Order.InvoiceStatus.OPEN,
        invoice_reminder_sent_at__isnull=True,
        hold_expires_at__gt=now,
        hold_expires_at__lte=now + timedelta(days=days_before),
    ).order_by("hold_expires_at", "pk")


def invoice_orders_lapsed(*, now: datetime) -> QuerySet[Order]:
    """Invoice orders still open for payment whose seat hold has lapsed (their seats already count as free)."""
    return Order.objects.filter(
        payment_method=Order.PaymentMethod.INVOICE, status=Order.Status.PENDING, hold_expires_at__lte=now
    ).order_by("hold_expires_at", "pk")


def invoices_to_void() -> QuerySet[Order]:
    """Closed orders whose Stripe invoice can still be paid."""
    return Order.objects.filter(
        status__in=(Order.Status.EXPIRED, Order.Status.CANCELLED, Order.Status.FAILED),
        invoice_status=Order.InvoiceStatus.OPEN,
    ).exclude(stripe_invoice_id="").order_by("pk")


@dataclass(frozen=True)
class OrderPayment:
    """One payment behind an order: its own, or one batch of seats added later."""

    order_id: int
    reference: str
    seat_count: int
    amount_cents: int
    paid_at: datetime | None
    payment_method: str
    payment_intent_id: str
    invoice_id: str
    invoice_number: str
    is_addition: bool

    @property
    def payment_reference(self) -> str:
        return self.invoice_number or self.payment_intent_id


def _payment(order: Order, *, amount_cents: int, seat_count: int) -> OrderPayment:
    return OrderPayment(
        order_id=order.pk,
        reference=order.reference,
        seat_count=seat_count,
        amount_cents=amount_cents,
        paid_at=order.paid_at,
        payment_method=order.payment_method,
        payment_intent_id=order.stripe_payment_intent_id,
        invoice_id=order.stripe_invoice_id,
        invoice_number=order.invoice_number,
        is_addition=order.kind == Order.Kind.ADDITION,
    )


def order_payments(*, order: Order) -> list[OrderPayment]:
    """The payments an order was paid with, oldest first: the order's own, then each batch of added seats."""
    additions = list(order.additions.filter(status=Order.Status.MERGED).order_by("paid_at", "pk"))
    own = _payment(
        order,
        amount_cents=order.total_cents - sum(a.total_cents for a in additions),
        seat_count=order.seat_count - sum(a.seat_count for a in additions),
    )
    return [own] + [_payment(a, amount_cents=a.total_cents, seat_count=a.seat_count) for a in additions]


def refunded_by_payment(*, order: Order, payments: list[OrderPayment] | None = None) -> dict[int, int]:
    """Cents refunded so far from each of an order's payments, keyed by the payment's order id."""
    payments = payments if payments is not None else order_payments(order=order)
    refunded = {payment.order_id: 0 for payment in payments}
    parts = RefundPart.objects.filter(refund__order=order).values("payment_id").annotate(n=Sum("amount_cents"))
    for row in parts:
        refunded[row["payment_id"]] = refunded.get(row["payment_id"], 0) + row["n"]
    # Refunds recorded before they were tracked per payment came out newest payment first.
    unattributed = order.refunded_cents - sum(refunded.values())
    for payment, cents in _newest_first(payments=payments, refunded=refunded, amount_cents=unattributed):
        refunded[payment.order_id] += cents
    return refunded


def _newest_first(
    *, payments: list[OrderPayment], refunded: dict[int, int], amount_cents: int
) -> list[tuple[OrderPayment, int]]:
    """`amount_cents` split over the payments, newest first, each taking at most what is left of it."""
    parts = []
    for payment in reversed(payments):
        take = min(max(payment.amount_cents - refunded[payment.order_id], 0), amount_cents)
        if take > 0:
            parts.append((payment, take))
            amount_cents -= take
    return parts


def refund_allocation(*, order: Order, amount_cents: int) -> list[tuple[OrderPayment, int]]:
    """Which payments a refund of `amount_cents` comes from: newest first, each within what is left of it.

    Seats added last are refunded from their own payment first, and no Stripe refund is ever
    larger than what is left of the charge it returns, whichever payment earlier refunds
    (here or in Stripe's dashboard) came out of.
    """
    payments = order_payments(order=order)
    refunded = refunded_by_payment(order=order, payments=payments)
    return _newest_first(payments=payments, refunded=refunded, amount_cents=amount_cents)


def pending_addition(*, order: Order, now: datetime | None = None) -> Order | None:
    """Seats the lead asked to add to this order and has not paid for yet, while their hold lasts."""
    return order.additions.filter(seat_taking_orders(now=now)).exclude(status=Order.Status.PAID).order_by("-created_at").first()


def addition_difference_cents(*, order: Order, new_total_cents: int) -> int:
    """What adding seats costs: the new seat count's total at its tier, less what the seats already bought cost at theirs."""
    return new_total_cents - order.unit_price_cents * order.seat_count


@dataclass(frozen=True)
class AdditionPrice:
    extra_seats: int
    unit_price_cents: int
    difference_cents: int


def growth_price(*, order: Order, tiers: list, seat_count: int) -> PriceQuote:
    """The price of every seat once an order has grown to `seat_count` seats: the tier that count
    reaches, but never more per seat than the order already pays (seats bought at a quote's price,
    or before a price rise, are not priced up, and the added seats cost no more than them).

    Raises NoPriceError.
    """
    today = quote_for(tiers=tiers, seat_count=seat_count)
    if order.unit_price_cents and order.unit_price_cents < today.unit_price_cents:
        return PriceQuote.per_seat(
            seat_count=seat_count, unit_price_cents=order.unit_price_cents, tier_min_seats=order.tier_min_seats
        )
    return today


def addition_prices(*, order: Order, tiers: list, up_to: int = 5) -> list[AdditionPrice]:
    """What adding 1 to `up_to` seats to a paid order would cost, for the order page."""
    rows = []
    for extra in range(1, up_to + 1):
        if order.seat_count + extra > settings.MAX_SEATS_PER_ORDER:
            break
        try:
            quote = growth_price(order=order, tiers=tiers, seat_count=order.seat_count + extra)
        except NoPriceError:
            break
        difference = addition_difference_cents(order=order, new_total_cents=quote.total_cents)
        if difference <= 0:
            break
        rows.append(AdditionPrice(extra_seats=extra, unit_price_cents=quote.unit_price_cents, difference_cents=difference))
    return rows
