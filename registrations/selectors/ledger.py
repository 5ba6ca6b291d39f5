"""Money already taken, read from the ledger: an order's payments and refunds, their sums for lists and the
dashboard, which payment a refund comes out of, and what added seats cost.

An order's money is the payments made for it plus, once seats added later have joined it, the payments made
for those seats. Only accepted payments count toward what the order paid; a payment that was refused (a
duplicate, or one that arrived after the seats were gone) or is waiting for staff review is listed, never counted.

Money owed back that Stripe has not taken yet (a return the worker is retrying) is a pending refund: it is reserved
(no seat refund takes it, so the return can always be made in full) but not counted as refunded until Stripe took it.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from workshops.selectors import NoPriceError, PriceQuote, quote_for

from ..models import Order, Payment, PaymentRequest, Refund, RefundPart, Voucher
from .availability import seat_taking_orders


def owned_by(order_id, *, prefix: str = "") -> Q:
    """Payments (at `prefix`) an order owns: its own, and those of seats added to it that have joined it.

    `order_id` may be an OuterRef. Seats added later that could not join keep their payment to themselves.
    """
    merged = Order.Status.MERGED
    return (Q(**{f"{prefix}order_id": order_id}) & ~Q(**{f"{prefix}order__status": merged})) | Q(
        **{f"{prefix}order__parent_id": order_id, f"{prefix}order__status": merged}
    )


def made(prefix: str = "") -> Q:
    """Refund parts (at `prefix`) whose money went back; a pending return (Stripe has not taken it yet) is not one."""
    return Q(**{f"{prefix}refund__made_at__isnull": False})


@dataclass(frozen=True)
class OrderMoney:
    """What an order has paid and been refunded, from its payments and the refunds tied to them."""

    payments: list[Payment] = field(default_factory=list)  # each with .refunded_cents and .pending_cents
    refunds: list[Refund] = field(default_factory=list)

    @property
    def accepted(self) -> list[Payment]:
        return [p for p in self.payments if p.status == Payment.Status.ACCEPTED]

    @property
    def not_accepted(self) -> list[Payment]:
        return [p for p in self.payments if p.status != Payment.Status.ACCEPTED]

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.accepted)

    @property
    def refunded_cents(self) -> int:
        return sum(p.refunded_cents for p in self.accepted)

    @property
    def net_cents(self) -> int:
        return self.paid_cents - self.refunded_cents

    @property
    def pending_return_cents(self) -> int:
        """Money owed back that Stripe has not taken yet: reserved, not counted as refunded."""
        return sum(p.pending_cents for p in self.payments)

    @property
    def refundable_cents(self) -> int:
        """What is left to refund of the money the order kept: its net, less what is reserved to be returned."""
        return sum(_left(p) for p in self.accepted)

    @property
    def returned_cents(self) -> int:
        """Refunded from payments that were not accepted (duplicates, late payments, payments under review)."""
        return sum(p.refunded_cents for p in self.not_accepted)

    @property
    def not_accepted_cents(self) -> int:
        return sum(p.amount_cents for p in self.not_accepted)

    @property
    def refunds_of_seats_cents(self) -> int:
        """What was given back of what the order owed (seats refunded, refunds in Stripe's dashboard), leaving out
        money returned because it was paid over a price (has_refunds)."""
        return sum(max(p.refunded_cents - p.overpaid_returned_cents, 0) for p in self.accepted)

    @property
    def has_refunds(self) -> bool:
        """Whether money the order owed was given back (seats refunded, a refund in Stripe's dashboard). Money
        returned because it was paid over a price (seats added later that were priced again) does not count."""
        return any(p.refunded_cents > p.overpaid_returned_cents for p in self.accepted)


def order_money(*, order: Order) -> OrderMoney:
    """The order's ledger, in two queries."""
    payments = list(
        Payment.objects.filter(owned_by(order.pk))
        .select_related("order")
        .annotate(
            refunded_cents=Coalesce(Sum("refund_parts__amount_cents", filter=made("refund_parts__")), 0),
            pending_cents=Coalesce(Sum("refund_parts__amount_cents", filter=~made("refund_parts__")), 0),
            overpaid_returned_cents=Coalesce(
                Sum("refund_parts__amount_cents", filter=made("refund_parts__") & Q(refund_parts__refund__kind=Refund.Kind.RETURNED)), 0
            ),
        )
        .order_by("received_at", "pk")
    )
    refunds = list(Refund.objects.filter(parts__payment__in=payments).distinct().order_by("created_at", "pk")) if payments else []
    return OrderMoney(payments=payments, refunds=refunds)


def _sum_subquery(queryset, column: str) -> Coalesce:
    rows = queryset.order_by().annotate(group=Value(1)).values("group").annotate(n=Sum(column)).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def with_money(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Annotate each order's ledger sums in the same query: `ledger_paid_cents` (accepted payments),
    `ledger_refunded_cents` (refunded from them), `ledger_net_cents` (the first less the second),
    `ledger_returned_cents` (payments not accepted) and `ledger_refund_failed_cents` (refunds Stripe could not complete,
    owed to the buyer another way)."""
    accepted = Payment.Status.ACCEPTED
    return queryset.annotate(
        ledger_paid_cents=_sum_subquery(Payment.objects.filter(owned_by(OuterRef("pk")), status=accepted), "amount_cents"),
        ledger_refunded_cents=_sum_subquery(
            RefundPart.objects.filter(owned_by(OuterRef("pk"), prefix="payment__"), made(), payment__status=accepted),
            "amount_cents",
        ),
        ledger_returned_cents=_sum_subquery(
            Payment.objects.filter(owned_by(OuterRef("pk"))).exclude(status=accepted), "amount_cents"
        ),
        ledger_refund_failed_cents=_sum_subquery(
            Payment.objects.filter(owned_by(OuterRef("pk")), stripe_refund_failed_cents__gt=0), "stripe_refund_failed_cents"
        ),
    ).annotate(ledger_net_cents=F("ledger_paid_cents") - F("ledger_refunded_cents"))


def with_workshop_money(workshops: QuerySet) -> QuerySet:
    """Workshops with `paid_cents` (payments accepted), `refunded_cents` (refunded from them) and `net_cents`,
    summed over the ledger in the same query."""
    accepted = Payment.Status.ACCEPTED
    return workshops.annotate(
        paid_cents=_sum_subquery(Payment.objects.filter(order__workshop=OuterRef("pk"), status=accepted), "amount_cents"),
        refunded_cents=_sum_subquery(
            RefundPart.objects.filter(made(), payment__order__workshop=OuterRef("pk"), payment__status=accepted), "amount_cents"
        ),
    ).annotate(net_cents=F("paid_cents") - F("refunded_cents"))


def refund_allocation(*, money: OrderMoney, amount_cents: int) -> list[tuple[Payment, int]]:
    """Which accepted payments a refund of `amount_cents` comes from: newest first, each within what is left of it.

    Seats added last are refunded from their own payment first, and no Stripe refund is ever
    larger than what is left of the charge it returns, whichever payment earlier refunds
    (here or in Stripe's dashboard) came out of. Money reserved to be returned from a payment (owed back,
    waiting for Stripe) is never taken, so that return can still be made in full.
    """
    parts = []
    for payment in reversed(money.accepted):
        take = min(_left(payment), amount_cents)
        if take > 0:
            parts.append((payment, take))
            amount_cents -= take
    return parts


def money_kept(*, order: Order, money: OrderMoney | None = None, held: frozenset[int] = frozenset()) -> int:
    """What an order still keeps of its accepted payments: not refunded and not owed back. A seat refund still waiting
    on Stripe's answer counts as kept (Stripe may refuse it, and its seats may then be restored) unless Stripe is known
    to hold it: its part has Stripe's refund id, or its id is in `held` (the charge's refunds, listed)."""
    money = money or order_money(order=order)
    waiting = RefundPart.objects.filter(
        payment__in=money.accepted, refund__made_at__isnull=True, refund__kind=Refund.Kind.SEATS, stripe_refund_id=""
    ).exclude(pk__in=held).aggregate(n=Sum("amount_cents"))["n"] or 0
    return sum(p.amount_cents - p.refunded_cents - p.pending_cents for p in money.accepted) + waiting


def _left(payment: Payment) -> int:
    """What is left of a payment (annotated by `order_money`) to refund: not refunded, not reserved to be returned."""
    return max(payment.amount_cents - payment.refunded_cents - payment.pending_cents, 0)


def payment_for_intent(payment_intent_id: str) -> Payment | None:
    """The payment a Stripe PaymentIntent made, with its order and the order's parent."""
    if not payment_intent_id:
        return None
    return Payment.objects.select_related("order__parent").filter(stripe_payment_intent_id=payment_intent_id).first()


def ledger_owner(payment: Payment) -> Order:
    """The order whose money a payment is: the order it paid, or the order its seats joined."""
    order = payment.order
    return order.parent if order.status == Order.Status.MERGED and order.parent_id else order


def invoice_amount_cents(*, order: Order) -> int:
    """What the order's invoice was issued for (it does not change when seats are added later); before the
    invoice exists, what it will be issued for."""
    if order.stripe_invoice_id:
        request = PaymentRequest.objects.filter(order=order, provider_id=order.stripe_invoice_id).first()
        if request is not None:
            return request.amount_cents
    return order.total_cents


def pending_addition(*, order: Order, now: datetime | None = None) -> Order | None:
    """Seats the lead asked to add to this order and has not paid for yet, while their hold lasts."""
    return order.additions.filter(seat_taking_orders(now=now)).exclude(status=Order.Status.PAID).order_by("-created_at").first()


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


def priced_voucher(order: Order) -> Voucher | None:
    """The order's code as the order was priced with it: its terms as kept when it was placed (staff may change the
    code since), or the code as it is now for orders placed before those were kept (migration 0030)."""
    if order.voucher_terms:
        return Voucher(**order.voucher_terms)
    return order.voucher if order.voucher_id else None


@dataclass(frozen=True)
class GrowthPrice:
    quote: PriceQuote  # every seat of the grown order
    total_cents: int  # the grown order, after its code's discount on the seats the code covers
    difference_cents: int  # what the added seats cost: that total less what the order has paid


def grown_order_price(*, order: Order, tiers: list, extra_seats: int, paid_cents: int) -> GrowthPrice:
    """What adding seats costs: the whole grown order at its tier (with the code's discount on the seats it
    already covered, never on the added ones) less what the order actually paid, so seats that cost nothing
    earn no credit and a team always pays its tier.

    Raises NoPriceError.
    """
    quote = growth_price(order=order, tiers=tiers, seat_count=order.seat_count + extra_seats)
    discount = 0
    voucher = priced_voucher(order)
    if voucher is not None and order.voucher_seat_count:
        discount = voucher.discount_cents(
            subtotal_cents=quote.total_cents, seat_count=quote.seat_count, covered_seats=order.voucher_seat_count
        )
    total = quote.total_cents - discount
    return GrowthPrice(quote=quote, total_cents=total, difference_cents=total - min(paid_cents, order.total_cents))


def addition_prices(*, order: Order, tiers: list, paid_cents: int, up_to: int = 5) -> list[AdditionPrice]:
    """What adding 1 to `up_to` seats to a paid order would cost, for the order page."""
    rows = []
    for extra in range(1, up_to + 1):
        if order.seat_count + extra > settings.MAX_SEATS_PER_ORDER:
            break
        try:
            price = grown_order_price(order=order, tiers=tiers, extra_seats=extra, paid_cents=paid_cents)
        except NoPriceError:
            break
        if price.difference_cents < settings.STRIPE_MINIMUM_CHARGE_CENTS:
            break
        rows.append(
            AdditionPrice(extra_seats=extra, unit_price_cents=price.quote.unit_price_cents, difference_cents=price.difference_cents)
        )
    return rows


def parts_returned_by_hand(refund: Refund) -> list[RefundPart]:
    """A sent refund's parts that Stripe made no refund for: paid outside Stripe (a cheque or transfer), so staff
    return them the same way."""
    return [p for p in refund.parts.select_related("payment").order_by("pk") if p.amount_cents and not p.stripe_refund_id]


def returnable_cents(*, payment: Payment, up_to_cents: int) -> int:
    """What returning a payment until `up_to_cents` of it is back would give back now (<= 0: nothing): less what was
    given back or reserved as not owed before (returned here, waiting for Stripe, or returned by hand in Stripe's
    dashboard), and never more than is left of the charge. Seats refunded by staff out of the same payment are not
    part of what was owed back, so they never shrink a return; they only limit what is left of the charge (and they
    never take what is reserved). `reserve_return` reserves this; the whole-order refund page shows it."""
    sums = payment.refund_parts.aggregate(
        returned=Sum("amount_cents", filter=~Q(refund__kind=Refund.Kind.SEATS)), all=Sum("amount_cents")
    )
    left = payment.amount_cents - (sums["all"] or 0)
    return min(min(up_to_cents, payment.amount_cents) - (sums["returned"] or 0), left)
