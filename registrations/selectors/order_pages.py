"""What the buyer's order page and the seat page are reached by (tokens) and show."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from workshops.models import PreworkModule, Session, Workshop

from ..models import (
    Order,
    Seat,
)
from .availability import seat_taking_orders
from .ledger import OrderPayment, order_payments
from .progress import prework_minutes_done

# Tokens are secrets.token_urlsafe(32); anything else cannot match, so it never reaches the database
# (PostgreSQL rejects a NUL byte in a query parameter with an error, not "no rows").
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


# A seat's page exists while its order is paid or on its way to being paid.
SEAT_PAGE_ORDER_STATUSES = (Order.Status.PENDING, Order.Status.PROCESSING, Order.Status.PAID)


def order_for_token(token: str) -> Order:
    """Raises Order.DoesNotExist for an unknown or malformed token."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise Order.DoesNotExist
    return Order.objects.select_related("workshop", "voucher", "quote").prefetch_related(
        Prefetch("workshop__sessions", queryset=Session.objects.order_by("starts_at"))
    ).get(token=token)


def seats_for_order(order: Order) -> QuerySet[Seat]:
    return order.seats.order_by("position")


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
    payments: list[OrderPayment] | None = None  # only for an order that grew: each payment, for the receipt
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
