"""What a seat refund gives back: the money the order kept less what the seats it keeps cost, bought now as one order
under the prices in effect when it was placed (its tiers and its code's terms, kept on the order at purchase).

A team that drops below its team size pays the smaller order's price: 5 seats at $100 with 4 refunded leave one seat
that has cost $120, so $380 goes back; 4 seats grown to 5 for $20 and then one refunded get $20 back, not $100.
"""

from dataclasses import dataclass

from workshops.models import PriceTier
from workshops.selectors import NoPriceError, quote_for
from workshops.templatetags.workshop_tags import usd

from ..models import Order, Voucher
from .ledger import OrderMoney, order_money, priced_voucher

VOUCHER_TERMS = ("kind", "percent_off", "amount_off_cents", "applies_to", "max_seats")


def tier_snapshot(tiers, *, quote=None) -> list[list[int]]:
    """A workshop's tiers as an order keeps them: [min seats, cents per seat] rows. An order placed from a quote keeps
    the quoted price for the tier it was quoted at (prices may have changed since the quote was given)."""
    rows = {tier.min_seats: tier.unit_price_cents for tier in tiers}
    if quote is not None:
        rows[quote.tier_min_seats] = quote.unit_price_cents
    return sorted([minimum, cents] for minimum, cents in rows.items())


def voucher_snapshot(voucher: Voucher | None) -> dict | None:
    """A code's terms as an order keeps them."""
    return {name: getattr(voucher, name) for name in VOUCHER_TERMS} if voucher is not None else None


@dataclass(frozen=True)
class KeptPrice:
    """What `seat_count` seats of an order cost bought now as one order under its prices."""

    seat_count: int
    total_cents: int = 0
    unit_price_cents: int = 0
    tier_min_seats: int = 1
    discount_cents: int = 0

    @property
    def price_label(self) -> str:
        if self.tier_min_seats <= 1:
            return f"the single-seat price ({usd(self.unit_price_cents)} each)"
        return f"the price for {self.tier_min_seats} or more seats ({usd(self.unit_price_cents)} each)"


def _tier_tables(order: Order) -> list[list[PriceTier]]:
    """The tier tables the order was bought under: its own, and those of seats added to it later (each priced when it
    was added). Orders placed before they were kept on the order are priced with the workshop's tiers as they are now."""
    snapshots = [order.price_tiers] + [
        a.price_tiers for a in order.additions.filter(status=Order.Status.MERGED).exclude(price_tiers=None)
    ]
    tables = [[PriceTier(min_seats=m, unit_price_cents=c) for m, c in rows] for rows in snapshots if rows]
    return tables or [order.workshop.tier_list]


def kept_seats_price(*, order: Order, seat_count: int) -> KeptPrice:
    """The lowest price of `seat_count` seats under any tier table the order was bought under, less its code's
    discount on the seats the code covered. A seat count no tier prices costs what the order pays per seat."""
    if seat_count <= 0:
        return KeptPrice(seat_count=0)
    voucher, covered = priced_voucher(order), min(order.voucher_seat_count, seat_count)
    best = None
    for tiers in _tier_tables(order):
        try:
            quote = quote_for(tiers=tiers, seat_count=seat_count)
        except NoPriceError:
            continue
        discount = voucher.discount_cents(
            subtotal_cents=quote.total_cents, seat_count=seat_count, covered_seats=covered
        ) if voucher is not None and covered else 0
        price = KeptPrice(seat_count, quote.total_cents - discount, quote.unit_price_cents, quote.tier_min_seats, discount)
        if best is None or price.total_cents < best.total_cents:
            best = price
    return best or KeptPrice(seat_count, order.unit_price_cents * seat_count, order.unit_price_cents, order.tier_min_seats)


@dataclass(frozen=True)
class SeatRefundPrice:
    """What refunding `seat_count` of an order's active seats gives back, and why."""

    seat_count: int
    kept: KeptPrice
    kept_cents: int  # what the order kept of what it paid: not refunded, not owed back
    share_cents: int  # the refunded seats' share of it, which the old rule gave back
    amount_cents: int

    @property
    def withheld_cents(self) -> int:
        """What stays with the order, of the refunded seats' share, to pay for the seats it keeps."""
        return max(self.share_cents - self.amount_cents, 0)

    @property
    def explanation(self) -> str:
        """One sentence for staff and the buyer, when the seats kept are priced again ("" otherwise)."""
        if not self.withheld_cents and self.amount_cents:
            return ""
        kept = self.kept
        seats = f"{kept.seat_count} seat{'s' if kept.seat_count != 1 else ''} kept cost{'s' if kept.seat_count == 1 else ''}"
        code = f" less the code's {usd(kept.discount_cents)}" if kept.discount_cents else ""
        if not kept.seat_count:
            return "Nothing was paid for these seats, so no money comes back: they are cancelled."
        if not self.amount_cents:
            return (f"{seats} {usd(kept.total_cents)} at {kept.price_label}{code}, and the order has kept "
                    f"{usd(self.kept_cents)}, so no money comes back: the seats are cancelled.")
        return (f"{seats} {usd(kept.total_cents)} at {kept.price_label}{code}; {usd(self.amount_cents)} is "
                f"refunded and {usd(self.withheld_cents)} stays toward the seats kept.")


def seat_refund_price(*, order: Order, seat_count: int, money: OrderMoney | None = None) -> SeatRefundPrice:
    """What refunding `seat_count` of the order's active seats returns: what the order kept (net of refunds, less money
    owed back and waiting for Stripe) less what the seats it keeps cost under its prices (`kept_seats_price`), never
    below nothing and never more than it kept."""
    money = money or order_money(order=order)
    active = order.seat_count - order.refunded_seat_count
    kept_cents = max(money.refundable_cents, 0)
    kept = kept_seats_price(order=order, seat_count=max(active - seat_count, 0))
    share = kept_cents * seat_count // active if active > 0 else kept_cents
    amount = min(max(kept_cents - kept.total_cents, 0), kept_cents)
    return SeatRefundPrice(seat_count=seat_count, kept=kept, kept_cents=kept_cents, share_cents=share, amount_cents=amount)


def refund_amount_cents(*, order: Order, seat_count: int, money: OrderMoney | None = None) -> int:
    """What refunding `seat_count` of the order's active seats returns (`seat_refund_price`)."""
    return seat_refund_price(order=order, seat_count=seat_count, money=money).amount_cents
