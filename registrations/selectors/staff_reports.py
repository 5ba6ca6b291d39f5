"""What staff read in admin: the roster and the per-workshop dashboard."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Exists,
    F,
    IntegerField,
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
    RosterSeat,
    Seat,
)
from .ledger import workshop_revenue_annotations
from .progress import prework_minutes_done, prework_minutes_total


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
    revenue_cents: int  # accepted payments less what was refunded from them (the ledger)
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
    revenue net of refunds from the payment ledger, in one query however many orders there are."""
    now = now or timezone.now()
    active_seats = F("seat_count") - F("refunded_seat_count")
    held = Q(status=Order.Status.PROCESSING) | Q(status=Order.Status.PENDING, hold_expires_at__gt=now)
    workshops = (
        Workshop.objects.annotate(
            seats_sold=_order_sum(active_seats, condition=Q(status=Order.Status.PAID)),
            seats_held=_order_sum(active_seats, condition=held),
            orders_paid=_order_sum(Value(1), condition=Q(status=Order.Status.PAID)),
            **workshop_revenue_annotations(),
        )
        .prefetch_related(Prefetch("sessions", queryset=Session.objects.order_by("starts_at")))
        .order_by("-created_at")
    )
    return [
        WorkshopStats(
            workshop=w,
            seats_sold=w.seats_sold,
            seats_held=w.seats_held,
            revenue_cents=w.ledger_paid_cents - w.ledger_refunded_cents,
            refunded_cents=w.ledger_refunded_cents,
            orders_paid=w.orders_paid,
        )
        for w in workshops
    ]
