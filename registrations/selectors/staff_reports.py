"""What staff read in admin: money per order and per workshop, the roster and the per-workshop dashboard."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from workshops.models import Session, Workshop

from ..models import (
    Attendance,
    Certificate,
    Order,
    Payment,
    RosterSeat,
    Seat,
)
from .ledger import owned_by, with_workshop_money
from .progress import prework_minutes_done, prework_minutes_total


# --- money ---------------------------------------------------------------------------------------------
# Every money figure staff see (the orders list, the admin home, the dashboard, the CSV exports) is read
# from the payment ledger (selectors/ledger.py: with_money per order, with_workshop_money per workshop):
# what was paid is the accepted payments, what was refunded is the refunds taken out of them. Seats added to
# an order own no money once they have joined it (their payment counts in that order).


def took_money() -> Exists:
    """Orders that own an accepted payment (their own, or one of seats that joined them)."""
    return Exists(Payment.objects.filter(owned_by(OuterRef("pk")), status=Payment.Status.ACCEPTED))


# --- the roster ---------------------------------------------------------------------------------------


def _nth_session(n: int, field: str = "pk") -> Subquery:
    """Annotation: a field of the n-th (1-based) session of the seat's workshop."""
    rows = Session.objects.filter(workshop=OuterRef("order__workshop")).order_by("starts_at", "pk").values(field)
    return Subquery(rows[n - 1 : n])


def session_count_max() -> int:
    """The most sessions any workshop has: how many attendance columns the roster needs."""
    return (
        Workshop.objects.annotate(n=Count("sessions")).aggregate(most=Max("n"))["most"] or 0
    )


def roster(queryset: QuerySet[Seat] | None = None, *, session_count: int = 2) -> QuerySet[RosterSeat]:
    """Active seats of paid orders with pre-work minutes, attendance at sessions 1..`session_count`
    (`attended_<n>`, and `session_<n>_starts_at`) and the certificate, all annotated in one query so the
    admin roster and its CSV cost the same for any size."""
    queryset = queryset if queryset is not None else RosterSeat.objects.all()
    certificate = Certificate.objects.filter(seat=OuterRef("pk"))
    numbers = range(1, session_count + 1)
    return (
        queryset.filter(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID)
        .select_related("order__workshop")
        .annotate(
            prework_minutes_done=prework_minutes_done(),
            prework_minutes_total=prework_minutes_total(),
            **{f"session_{n}_id": _nth_session(n) for n in numbers},
            **{f"session_{n}_starts_at": _nth_session(n, "starts_at") for n in numbers},
        )
        .annotate(
            **{
                f"attended_{n}": Exists(Attendance.objects.filter(seat=OuterRef("pk"), session=OuterRef(f"session_{n}_id")))
                for n in numbers
            },
            certificate_code=Subquery(certificate.values("code")[:1]),
            certificate_revoked_at=Subquery(certificate.values("revoked_at")[:1]),
        )
    )


# Who may read attendees' access needs (the Seats screen shows them too): the roster and the admin
# home show them, and the roster CSV carries them, only to staff with this permission.
ACCESS_NEEDS_PERMISSION = "registrations.view_access_needs"


def with_access_needs(queryset: QuerySet[Seat]) -> QuerySet[Seat]:
    return queryset.filter(Q(needs_captions=True) | Q(needs_interpreter=True) | ~Q(access_note=""))


def access_needs_text(seat: Seat) -> str:
    """'captions, interpreter, sits near the front': what staff arrange for one attendee."""
    needs = [label for flag, label in ((seat.needs_captions, "captions"), (seat.needs_interpreter, "interpreter")) if flag]
    if seat.access_note:
        needs.append(seat.access_note)
    return ", ".join(needs)


# --- orders staff need to act on -----------------------------------------------------------------------

ORDER_QUEUES = {
    "held": "Holding seats now (checkout open or payment clearing)",
    "money": "Took money (paid or refunded)",
    "review": "Payment needs review",
    "invoice_due": "Invoice sent, not due yet",
    "invoice_overdue": "Invoice past its due date",
}


def orders_in_queue(queryset: QuerySet[Order], queue: str, *, now: datetime | None = None) -> QuerySet[Order]:
    """The orders behind a figure on the admin home (ORDER_QUEUES); an unknown queue changes nothing."""
    now = now or timezone.now()
    unpaid_invoice = Q(status=Order.Status.PENDING, payment_method=Order.PaymentMethod.INVOICE)
    due = Coalesce("invoice_due_at", "hold_expires_at")
    if queue == "held":
        return queryset.filter(held_now(now))
    if queue == "money":
        return queryset.filter(took_money())
    if queue == "review":
        return queryset.filter(payment_needs_review=True)
    if queue == "invoice_due":
        return queryset.alias(due=due).filter(unpaid_invoice, due__gt=now)
    if queue == "invoice_overdue":
        return queryset.alias(due=due).filter(unpaid_invoice, due__lte=now)
    return queryset


def held_now(now: datetime) -> Q:
    """Orders whose seats are held: a checkout (or invoice) still inside its hold, or a payment clearing."""
    return Q(status=Order.Status.PROCESSING) | Q(status=Order.Status.PENDING, hold_expires_at__gt=now)


@dataclass(frozen=True)
class WorkshopStats:
    workshop: Workshop
    seats_sold: int
    seats_held: int
    revenue_cents: int  # accepted payments less what was refunded from them (the ledger)
    refunded_cents: int
    orders_paid: int
    paid_cents: int = 0

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


def with_seat_counts(workshops: QuerySet[Workshop], *, now: datetime) -> QuerySet[Workshop]:
    """Workshops with `seats_sold` (active seats of paid orders), `seats_held` and `orders_paid`."""
    active_seats = F("seat_count") - F("refunded_seat_count")
    return workshops.annotate(
        seats_sold=_order_sum(active_seats, condition=Q(status=Order.Status.PAID)),
        seats_held=_order_sum(active_seats, condition=held_now(now)),
        orders_paid=_order_sum(Value(1), condition=Q(status=Order.Status.PAID)),
    )


def workshop_dashboard(*, now: datetime | None = None, workshops: QuerySet[Workshop] | None = None) -> list[WorkshopStats]:
    """Per workshop: seats sold (paid), held (live holds and payments still clearing), left, and
    revenue net of refunds from the payment ledger, in one query however many orders there are."""
    now = now or timezone.now()
    workshops = workshops if workshops is not None else Workshop.objects.order_by("-created_at")
    rows = with_workshop_money(with_seat_counts(workshops, now=now)).prefetch_related(
        Prefetch("sessions", queryset=Session.objects.order_by("starts_at"))
    )
    return [
        WorkshopStats(
            workshop=w,
            seats_sold=w.seats_sold,
            seats_held=w.seats_held,
            revenue_cents=w.net_cents,
            refunded_cents=w.refunded_cents,
            orders_paid=w.orders_paid,
            paid_cents=w.paid_cents,
        )
        for w in rows
    ]
