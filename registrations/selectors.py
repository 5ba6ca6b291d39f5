from datetime import datetime

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from workshops.models import Workshop
from workshops.selectors import workshops_for_catalog

from .models import Order, Seat

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


def seats_available(*, workshop: Workshop, now: datetime | None = None) -> int:
    return max(workshop.capacity - seats_taken(workshop_id=workshop.pk, now=now), 0)


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


def order_for_token(token: str) -> Order:
    return Order.objects.select_related("workshop").get(token=token)


def seats_for_order(order: Order) -> QuerySet[Seat]:
    return order.seats.order_by("position")


def seat_for_token(token: str) -> Seat:
    return Seat.objects.select_related("order__workshop").get(token=token, status=Seat.Status.ACTIVE)


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
