"""Seats taken and left: paid seats plus live holds, counted, never stored; and the price of a seat count."""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from workshops.models import Workshop
from workshops.selectors import (
    NoPriceError,
    PriceQuote,
    quote_for,
    workshops_for_catalog,
)

from ..models import (
    Order,
)

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


def seats_available(*, workshop: Workshop, now: datetime | None = None, exclude_order_id: int | None = None) -> int:
    """Seats still free: capacity less paid seats and live holds (other than the excluded order's)."""
    return max(workshop.capacity - seats_taken(workshop_id=workshop.pk, now=now, exclude_order_id=exclude_order_id), 0)


def unpaid_invoice_holds(*, workshop_id: int, now: datetime | None = None) -> QuerySet[Order]:
    """Orders (and added seats) waiting for an invoice to be paid, whose hold still counts."""
    return Order.objects.filter(
        workshop_id=workshop_id,
        payment_method=Order.PaymentMethod.INVOICE,
        status=Order.Status.PENDING,
        hold_expires_at__gt=now or timezone.now(),
    )


def invoice_seat_allowance(workshop: Workshop) -> int:
    """Seats that unpaid invoices may hold at once: the workshop's share (invoice_hold_percent) of its capacity."""
    return workshop.capacity * workshop.invoice_hold_percent // 100


def invoice_seats_held(*, workshop_id: int, now: datetime | None = None, exclude_order_id: int | None = None) -> int:
    holds = unpaid_invoice_holds(workshop_id=workshop_id, now=now)
    if exclude_order_id is not None:
        holds = holds.exclude(pk=exclude_order_id)
    return holds.aggregate(n=Sum(F("seat_count") - F("refunded_seat_count")))["n"] or 0


def invoice_seats_available(*, workshop: Workshop, now: datetime | None = None) -> int:
    """Seats an invoice request could hold now: what is left of the invoice allowance, and never more than is free
    (`workshop` needs the `seats_taken` annotation of with_seats_taken; `invoice_seats_held` is used when annotated)."""
    held = getattr(workshop, "invoice_seats_held", None)
    if held is None:
        held = invoice_seats_held(workshop_id=workshop.pk, now=now)
    return max(min(invoice_seat_allowance(workshop) - held, workshop.seats_left), 0)


def _card_holds_from(hold_source: str, now: datetime) -> Q:
    """Unpaid card checkouts from one network (`hold_source`, a keyed hash) still holding their seats at `now`:
    once paid, cancelled or lapsed they stop counting."""
    return Q(
        hold_source=hold_source, payment_method=Order.PaymentMethod.CARD, status=Order.Status.PENDING, hold_expires_at__gt=now
    )


def card_seats_held_from(
    *, workshop_id: int, hold_source: str, now: datetime | None = None, exclude_order_id: int | None = None
) -> int:
    """Seats that unpaid card checkouts from one network hold in this workshop just now (_card_holds_from)."""
    holds = Order.objects.filter(_card_holds_from(hold_source, now or timezone.now()), workshop_id=workshop_id)
    if exclude_order_id is not None:
        holds = holds.exclude(pk=exclude_order_id)
    return holds.aggregate(n=Sum(F("seat_count") - F("refunded_seat_count")))["n"] or 0


@dataclass(frozen=True)
class SeatCounts:
    taken: int  # seats_taken: paid seats and live holds
    held_from_network: int  # card_seats_held_from the network asked about (0 when none was)
    invoice_held: int  # invoice_seats_held: seats on unpaid invoices' live holds (0 unless asked for)
    same_submission: int | None = None  # the order placed from the registration page asked about, if it stands


def seat_counts(
    *, workshop_id: int, hold_source: str = "", invoice_holds: bool = False, submission_key: str = "",
    now: datetime | None = None,
) -> SeatCounts:
    """The workshop's seat counts in one round trip: the registration form reads them on every request, and
    checkout start under the workshop lock (in the lock's round trip: checkout_sql.lock_workshop). The network's
    card holds only when `hold_source` is given, the invoice holds only when asked for (0 otherwise); with
    `submission_key`, also the order already placed from that registration page (pending, processing or paid), if
    any.

    Written in SQL, the same rules as seat_taking_orders, _card_holds_from and unpaid_invoice_holds
    (tests/registrations/test_hot_path_sql.py holds them to the ORM's answers for any mix of orders): built with
    the ORM, the statement cost more CPU than the rest of the seat count together. One scalar subquery per count,
    so each can use its index (the seats taken come from order_seats_taken_idx alone).
    """
    return SeatCountQuery(workshop_id=workshop_id, hold_source=hold_source, invoice_holds=invoice_holds,
                          submission_key=submission_key, now=now).count()


@dataclass
class SeatCountQuery:
    """seat_counts' statement, and its answer read from the row it gives."""

    workshop_id: int
    hold_source: str = ""
    invoice_holds: bool = False
    submission_key: str = ""
    now: datetime | None = None
    sql: str = field(init=False)
    params: list = field(init=False)

    def __post_init__(self) -> None:
        at = connection.ops.adapt_datetimefield_value(self.now or timezone.now())
        workshop_id, table, pending = self.workshop_id, Order._meta.db_table, Order.Status.PENDING.value
        total = f"SELECT COALESCE(SUM(seat_count - refunded_seat_count), 0) FROM {table} WHERE workshop_id = %s AND "
        statuses = ", ".join(["%s"] * len(SEAT_TAKING_STATUSES))
        counts = [f"({total}(status IN ({statuses}) OR (status = %s AND hold_expires_at > %s)))"]
        params = [workshop_id, *(status.value for status in SEAT_TAKING_STATUSES), pending, at]
        if self.hold_source:
            counts.append(f"({total}hold_source = %s AND payment_method = %s AND status = %s AND hold_expires_at > %s)")
            params += [workshop_id, self.hold_source, Order.PaymentMethod.CARD.value, pending, at]
        if self.invoice_holds:
            counts.append(f"({total}payment_method = %s AND status = %s AND hold_expires_at > %s)")
            params += [workshop_id, Order.PaymentMethod.INVOICE.value, pending, at]
        if self.submission_key:
            counts.append(
                f"(SELECT MIN(id) FROM {table} WHERE workshop_id = %s AND submission_key = %s AND status IN (%s, %s, %s))"
            )
            params += [workshop_id, self.submission_key, pending, Order.Status.PROCESSING.value, Order.Status.PAID.value]
        self.sql, self.params = f"SELECT {', '.join(counts)}", params

    def count(self) -> SeatCounts:
        """Run the statement on its own (checkout start sends it after the workshop's lock instead)."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return self.counts(cursor.fetchone())

    def counts(self, row) -> SeatCounts:
        row = list(row)
        return SeatCounts(
            taken=row.pop(0),
            held_from_network=row.pop(0) if self.hold_source else 0,
            invoice_held=row.pop(0) if self.invoice_holds else 0,
            same_submission=row.pop(0) if self.submission_key else None,
        )


def with_seat_counts(workshop: Workshop, *, now: datetime | None = None) -> Workshop:
    """The workshop with `seats_taken` (what with_seats_taken annotates) and `invoice_seats_held` set, in one
    query cheaper than the annotations (seat_counts)."""
    counts = seat_counts(workshop_id=workshop.pk, invoice_holds=True, now=now)
    workshop.seats_taken, workshop.invoice_seats_held = counts.taken, counts.invoice_held
    return workshop


def open_invoice_request(*, workshop_id: int, line1: str, postal_code: str, now: datetime | None = None) -> Order | None:
    """An unpaid invoice request for this workshop to this billing address.

    Not by email address: refusing a person's address would tell anyone who types it that its owner asked
    to be invoiced for the workshop (the browser that made the request is shown it by services/duplicates.py).
    """
    key = address_key(line1, postal_code)
    # Few rows (unpaid invoice requests for one workshop), compared in Python by the same key.
    for order in unpaid_invoice_holds(workshop_id=workshop_id, now=now).only("pk", "billing_line1", "billing_postal_code"):
        if address_key(order.billing_line1, order.billing_postal_code) == key:
            return order
    return None


# Street words as people abbreviate them, and US ZIP+4: the same address written two ways is one address.
_STREET_WORDS = {
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "rd": "road", "blvd": "boulevard", "dr": "drive",
    "ln": "lane", "ct": "court", "pl": "place", "sq": "square", "hwy": "highway", "pkwy": "parkway", "ste": "suite",
    "fl": "floor", "apt": "apartment", "bldg": "building", "n": "north", "s": "south", "e": "east", "w": "west",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest",
}


def address_key(line1: str, postal_code: str) -> tuple[str, str]:
    """A billing address as a comparable key: case, punctuation, spacing and common abbreviations ignored; a US ZIP+4
    is its five-digit ZIP."""
    words = re.sub(r"[^\w\s]", " ", line1.lower()).split()
    postal = re.sub(r"[\s-]", "", postal_code.upper())
    if re.fullmatch(r"\d{9}", postal):
        postal = postal[:5]
    return " ".join(_STREET_WORDS.get(word, word) for word in words), postal


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


def price_for(*, tiers: list, seat_count: int, quote=None) -> PriceQuote:
    """What `seat_count` seats cost: today's tiers, or a still valid quote's price per seat when the
    order is for the seats quoted and the quote is cheaper (a price rise does not touch a quote
    already given; a price cut still reaches the district holding one).

    Raises NoPriceError when neither prices this many seats.
    """
    try:
        today = quote_for(tiers=tiers, seat_count=seat_count)
    except NoPriceError:
        today = None
    if quote is not None and quote.seat_count == seat_count and (
        today is None or quote.unit_price_cents < today.unit_price_cents
    ):
        return PriceQuote.per_seat(
            seat_count=seat_count,
            unit_price_cents=quote.unit_price_cents,
            tier_min_seats=quote.tier_min_seats,
            from_quote=quote.reference,
        )
    if today is None:
        raise NoPriceError(f"No price for {seat_count} seats.")
    return today
