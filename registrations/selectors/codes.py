"""Discount codes in use, and quotes still valid."""

import re
from datetime import datetime

from django.db.models import Sum
from django.utils import timezone

from workshops.models import Workshop

from ..models import Order, Quote
from .availability import seat_taking_orders

QUOTE_REFERENCE_PATTERN = re.compile(r"Q-[A-Z0-9]{8}")


def voucher_seats_used(*, voucher_id: int, now: datetime | None = None, exclude_order_id: int | None = None) -> int:
    """Seats the code discounts on paid orders and live holds: a code's seats are reserved like seats."""
    orders = Order.objects.filter(seat_taking_orders(now=now), voucher_id=voucher_id)
    if exclude_order_id is not None:
        orders = orders.exclude(pk=exclude_order_id)
    return orders.aggregate(n=Sum("voucher_seat_count"))["n"] or 0


def voucher_seats_left(*, voucher, now: datetime | None = None, exclude_order_id: int | None = None) -> int | None:
    """Seats the code can still discount (by orders other than the excluded one); None when it is unlimited."""
    if voucher.max_seats is None:
        return None
    used = voucher_seats_used(voucher_id=voucher.pk, now=now, exclude_order_id=exclude_order_id)
    return max(voucher.max_seats - used, 0)


def voucher_used_up(*, voucher, now: datetime | None = None, exclude_order_id: int | None = None) -> bool:
    """Whether every seat the code covers is taken (by orders other than the excluded one)."""
    return voucher_seats_left(voucher=voucher, now=now, exclude_order_id=exclude_order_id) == 0


def valid_quote(*, workshop: Workshop, reference: str, now: datetime | None = None) -> Quote | None:
    """A quote for this workshop that has not run out, by its reference (any case)."""
    reference = (reference or "").strip().upper()
    if not QUOTE_REFERENCE_PATTERN.fullmatch(reference):
        return None
    return (
        Quote.objects.select_related("voucher")
        .filter(workshop=workshop, reference=reference, valid_until__gt=now or timezone.now())
        .first()
    )
