"""Money already taken: the payments behind an order, what was refunded from each, and what added seats cost."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Sum

from workshops.selectors import (
    NoPriceError,
    PriceQuote,
    quote_for,
)

from ..models import (
    Order,
    RefundPart,
)
from .availability import seat_taking_orders


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
