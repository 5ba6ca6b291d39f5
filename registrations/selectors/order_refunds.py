"""What refunding a whole order would do, read before staff confirm it: the seats cancelled, the money given back
and the payments it comes out of, worked out as the refund itself works them out (`refund_seats`,
`return_refused_payments`), and nothing sent to Stripe."""

from dataclasses import dataclass, field

from ..models import Order, Payment, Seat
from .ledger import order_money, refund_allocation, returnable_cents
from .repricing import refund_amount_cents


@dataclass(frozen=True)
class WholeOrderRefund:
    """One selected order: `outcome` is "refund" (its active seats are cancelled and `amount_cents` refunded from
    `parts`), "return" (its refused payments, `parts`, are returned) or "skip" (nothing happens; `why` says why)."""

    order: Order
    outcome: str
    seats: list[Seat] = field(default_factory=list)
    parts: list[tuple[Payment, int]] = field(default_factory=list)
    why: str = ""

    @property
    def amount_cents(self) -> int:
        return sum(cents for _, cents in self.parts)

    @property
    def outside_stripe_cents(self) -> int:
        """What of it was paid outside Stripe (a cheque or transfer): no refund API returns it, staff do."""
        return sum(cents for payment, cents in self.parts if payment.source == Payment.Source.OUT_OF_BAND)

    @property
    def shown(self) -> tuple[str, str]:
        """What the confirmation page showed, as its form sends it back: the cents ("skip" for nothing) and the seats
        cancelled. "Yes" carries out only what still reads the same."""
        if self.outcome == "skip":
            return "skip", "0"
        return str(self.amount_cents), str(len(self.seats))


def whole_order_refund(*, order: Order) -> WholeOrderRefund:
    """What "Refund the whole order" would do to this order now."""
    if order.status == Order.Status.NEEDS_REFUND:
        return _refused_payments_return(order)
    if order.status == Order.Status.MERGED and order.parent_id:
        return WholeOrderRefund(order=order, outcome="skip", why=f"Its seats joined {order.parent.reference}: refund that order.")
    if order.status != Order.Status.PAID:
        return WholeOrderRefund(
            order=order, outcome="skip", why=f"Its status is “{order.get_status_display()}”: only paid orders are refunded."
        )
    seats = list(order.seats.filter(status=Seat.Status.ACTIVE).order_by("position"))
    if not seats:
        return WholeOrderRefund(order=order, outcome="skip", why="It has no active seats left.")
    money = order_money(order=order)
    amount = refund_amount_cents(order=order, seat_count=len(seats), money=money)
    parts = refund_allocation(money=money, amount_cents=amount)
    return WholeOrderRefund(order=order, outcome="refund", seats=seats, parts=parts)


def _refused_payments_return(order: Order) -> WholeOrderRefund:
    """The order's refused payments not fully back yet, each with what is still owed back of it, as return_payment
    (`return_refused_payments`) sends it: a return already reserved and waiting on Stripe as it is, else what
    `returnable_cents` gives. A payment one of whose refunds failed at Stripe is not returned
    again: staff were told to pay the buyer another way."""
    parts = []
    for payment in order_money(order=order).payments:
        if payment.order_id != order.pk or payment.status != Payment.Status.REFUSED:
            continue
        if payment.pending_cents:
            parts.append((payment, payment.pending_cents))
            continue
        owed = 0 if payment.stripe_refund_failed_cents else returnable_cents(payment=payment, up_to_cents=payment.amount_cents)
        if owed > 0:
            parts.append((payment, owed))
    if not parts:
        return WholeOrderRefund(order=order, outcome="skip", why="Its refused payments are back already, or were "
                                "refunded another way after Stripe failed: there is nothing to return.")
    return WholeOrderRefund(order=order, outcome="return", parts=parts)
