"""What the buyer's order page and the seat page are reached by (tokens) and show."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import (
    Prefetch,
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
from .ledger import OrderMoney, invoice_amount_cents, order_money
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
    money: OrderMoney  # the ledger: what was paid, by which payment, and refunded
    invoice_amount_cents: int | None = None  # what the order's invoice was issued for
    pending_addition: Order | None = None  # seats added and not yet paid for
    pending_addition_invoice_cents: int | None = None

    @property
    def active_seats(self) -> list[Seat]:
        return [s for s in self.seats if s.status == Seat.Status.ACTIVE]

    @property
    def named_count(self) -> int:
        return sum(1 for s in self.active_seats if s.is_named)

    @property
    def unnamed_count(self) -> int:
        return len(self.active_seats) - self.named_count

    @property
    def prework_finished_count(self) -> int:
        if not self.prework_minutes_total:
            return 0
        return sum(1 for s in self.active_seats if s.is_named and s.prework_minutes_done >= self.prework_minutes_total)

    @property
    def own_seat(self) -> Seat | None:
        """The buyer's own seat (the one in their email), whose attendee page is theirs to open."""
        if self.order.status not in SEAT_PAGE_ORDER_STATUSES:
            return None
        buyer = self.order.buyer_email.lower()
        return next((s for s in self.active_seats if s.attendee_email.lower() == buyer), None)

    @property
    def can_change_seats(self) -> bool:
        return self.order.is_paid and self.changes_open

    @property
    def _team_may_grow(self) -> bool:
        return self.can_change_seats and self.order.kind == Order.Kind.PURCHASE and self.pending_addition is None

    @property
    def _money_refunded(self) -> bool:
        return bool(self.order.refunded_seat_count or self.money.has_refunds)

    @property
    def seats_added_by_us(self) -> bool:
        """Money on the order was refunded: the lead may grow the team only through us (place_addition refuses),
        so the page says so instead of offering prices it would not accept."""
        return self._team_may_grow and self._money_refunded

    @property
    def can_add_seats(self) -> bool:
        return self._team_may_grow and not self._money_refunded


def order_overview(*, order: Order, now: datetime | None = None) -> OrderOverview:
    """What the buyer's order page shows, in a fixed number of queries."""
    seats = list(order.seats.order_by("position").annotate(prework_minutes_done=prework_minutes_done()))
    for seat in seats:
        seat.order = order  # the page reads seat.order; reuse the one already loaded
    total = PreworkModule.objects.filter(workshop_id=order.workshop_id).aggregate(n=Sum("minutes"))["n"] or 0
    workshop = order.workshop
    pending = list(order.additions.filter(seat_taking_orders(now=now)))
    addition = max(pending, key=lambda a: a.created_at) if pending else None
    return OrderOverview(
        order=order,
        seats=seats,
        prework_minutes_total=total,
        changes_close_at=workshop.seat_changes_close_at(),
        changes_open=seat_changes_open(workshop=workshop, now=now),
        money=order_money(order=order),
        invoice_amount_cents=invoice_amount_cents(order=order) if order.is_invoiced else None,
        pending_addition=addition,
        pending_addition_invoice_cents=invoice_amount_cents(order=addition) if addition and addition.is_invoiced else None,
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
            Prefetch(
                "order__workshop__prework_modules",
                queryset=PreworkModule.objects.select_related("file").defer("file__data").order_by("position", "id"),
            ),
        )
        .get(token=token, status=Seat.Status.ACTIVE, order__status__in=SEAT_PAGE_ORDER_STATUSES)
    )


def existing_order_for(*, workshop_id: int, email: str, now: datetime | None = None) -> Order | None:
    """The newest order this email already bought (paid, processing, or on a live hold) for this workshop.

    In SQL (order_buyer_email_ci_idx answers `UPPER(buyer_email) = UPPER(%s)`, what `buyer_email__iexact`
    compiles to): every checkout start asks, almost always to hear "none", and building the question with
    the ORM cost several times what asking it does (tests/registrations/test_hot_path_sql.py holds it to the
    ORM's answer).
    """
    at = connection.ops.adapt_datetimefield_value(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT id FROM {Order._meta.db_table}
            WHERE workshop_id = %s AND UPPER(buyer_email) = UPPER(%s) AND kind = %s
              AND (status IN (%s, %s) OR (status = %s AND hold_expires_at > %s))
            ORDER BY created_at DESC, id DESC LIMIT 1
            """,
            [workshop_id, email.strip(), Order.Kind.PURCHASE.value, Order.Status.PAID.value,
             Order.Status.PROCESSING.value, Order.Status.PENDING.value, at],
        )
        found = cursor.fetchone()
    return Order.objects.get(pk=found[0]) if found else None
