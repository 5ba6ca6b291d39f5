"""Everything one email address can reach: orders it bought, seats it holds, waitlist places."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from cohorts.models import WaitlistEntry
from registrations.models import Order, Seat
from registrations.selectors.availability import seat_taking_orders
from registrations.selectors.order_pages import SEAT_PAGE_ORDER_STATUSES

# Orders whose page still tells the buyer something: live holds, payments, refunds.
SETTLED_STATUSES = (Order.Status.PROCESSING, Order.Status.PAID, Order.Status.NEEDS_REFUND, Order.Status.REFUNDED)


@dataclass(frozen=True)
class LinksForEmail:
    orders: list[Order]
    seats: list[Seat]
    waitlist_entries: list[WaitlistEntry]

    @property
    def is_empty(self) -> bool:
        return not (self.orders or self.seats or self.waitlist_entries)


def links_for_email(email: str, *, now: datetime | None = None) -> LinksForEmail:
    """The buyer's orders (live or settled), the attendee's seats, and their waitlist entries, newest first."""
    now = now or timezone.now()
    email = email.strip()
    orders = (
        Order.objects.filter(buyer_email__iexact=email, kind=Order.Kind.PURCHASE)
        .filter(Q(status__in=SETTLED_STATUSES) | seat_taking_orders(now=now))
        .select_related("workshop")
        .order_by("-created_at")
    )
    seats = (
        Seat.objects.filter(attendee_email__iexact=email, status=Seat.Status.ACTIVE, order__status__in=SEAT_PAGE_ORDER_STATUSES)
        .select_related("order__workshop")
        .prefetch_related("order__workshop__sessions")
        .order_by("-created_at")
    )
    entries = WaitlistEntry.objects.filter(email__iexact=email).select_related("cohort").order_by("-joined_at")
    return LinksForEmail(orders=list(orders), seats=list(seats), waitlist_entries=list(entries))
