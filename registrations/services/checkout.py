"""Placing an order: holds on seats under the workshop lock, renewing them, and opening Stripe Checkout Sessions."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from registrations.selectors.availability import (
    SeatCountQuery,
    SeatCounts,
    card_seats_held_from,
    invoice_seat_allowance,
    invoice_seats_held,
    price_for,
    seats_available,
)
from registrations.selectors.codes import voucher_seats_left
from registrations.selectors.repricing import tier_snapshot, voucher_snapshot
from workshops import catalog
from workshops.models import Workshop
from workshops.templatetags.workshop_tags import usd

from ..errors import (
    NetworkHoldLimitError,
    NotEnoughSeatsError,
    OrderNotPayableError,
    RegistrationClosedError,
    RegistrationError,
    SameSubmissionError,
    VoucherError,
)
from ..models import (
    Order,
    Payment,
    PaymentRequest,
    Quote,
    Seat,
    SeatAlert,
    Voucher,
)
from ..stripe import client as stripe_client
from ..stripe import payments as stripe_payments
from . import checkout_sql
from .fulfilment import close_order, fulfil_order
from .payments import ReceivedPayment
from .vouchers import check_minimum_charge, claim_voucher, code_discount


@dataclass(frozen=True)
class AttendeeData:
    name: str = ""
    email: str = ""
    needs_captions: bool = False
    needs_interpreter: bool = False
    access_note: str = ""


def hold_duration() -> timedelta:
    # A minute beyond Stripe's 30-minute minimum, so the session's expires_at is still
    # valid when Stripe receives the request a moment after the hold starts.
    return timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES + 1)


def check_network_hold(*, held: int, seat_count: int, renewing: bool = False) -> None:
    """Unpaid card checkouts from one network may hold at most CHECKOUT_HOLD_SEATS_PER_NETWORK seats of a workshop
    at once. `held`: what that network's other live card holds hold, counted with the workshop row locked, so two
    checkouts from it cannot both fit. Raises NetworkHoldLimitError.
    """
    allowance = settings.CHECKOUT_HOLD_SEATS_PER_NETWORK
    if allowance > 0 and held + seat_count > allowance:
        raise NetworkHoldLimitError(
            held=held, allowance=allowance, contact_email=settings.CONTACT_EMAIL, renewing=renewing
        )


def _seats(*, order: Order, attendees: list[AttendeeData]) -> list[Seat]:
    """The order's seats: the attendees named so far first, then unnamed seats."""
    return [
        Seat(
            order=order,
            position=position,
            attendee_name=attendee.name,
            attendee_email=attendee.email,
            needs_captions=attendee.needs_captions,
            needs_interpreter=attendee.needs_interpreter,
            access_note=attendee.access_note,
        )
        for position, attendee in enumerate(attendees + [AttendeeData()] * (order.seat_count - len(attendees)), start=1)
    ]


def _lock_for_sale(workshop: Workshop, counting: SeatCountQuery) -> SeatCounts:
    """Lock the workshop's row and read its capacity as it stands under the lock, then count its seats as `counting`
    asks (on PostgreSQL in the lock's round trip). Dates, sessions and prices are the caller's copy of the workshop,
    read a moment ago in the same request, unless staff have changed them since: every such change renews
    catalog_version on this row, so it is seen here, and priced from."""
    if checkout_sql.writes_in_sql():
        (workshop.capacity, workshop.is_published, version), counts = checkout_sql.lock_workshop(workshop.pk, then=counting)
    else:
        workshop.capacity, workshop.is_published, version = (
            Workshop.objects.select_for_update().filter(pk=workshop.pk)
            .values_list("capacity", "is_published", "catalog_version").get()
        )
        counts = counting.count()
    if version != workshop.catalog_version:
        workshop.catalog_version = version
        catalog.attach([workshop])
    return counts


def place_order(
    *,
    workshop: Workshop,
    buyer_name: str,
    buyer_email: str,
    organisation: str,
    role: str,
    seat_count: int,
    buyer_attends: bool,
    attendees: list[AttendeeData],
    voucher_code: str = "",
    from_quote: Quote | None = None,
    hold_source: str = "",
    submission_key: str = "",
    now: datetime | None = None,
) -> Order:
    """Create an order and hold its seats, never beyond capacity.

    The workshop row is locked while paid seats and live holds are counted, so
    concurrent buyers queue here for a moment instead of overselling. A voucher's
    row is locked the same way while its uses are counted. `hold_source` (a keyed hash of
    the buyer's network address) caps that network's unpaid card holds (check_network_hold). `submission_key` names
    the registration page the order is placed from: if that page placed an order already, it is not placed twice.
    Raises RegistrationClosedError, NotEnoughSeatsError, NoPriceError, VoucherError, NetworkHoldLimitError,
    SameSubmissionError.
    """
    now = now or timezone.now()
    if not 1 <= seat_count <= settings.MAX_SEATS_PER_ORDER:
        raise RegistrationError(f"Choose between 1 and {settings.MAX_SEATS_PER_ORDER} seats.")
    if len(attendees) > seat_count:
        raise RegistrationError("More attendees named than seats chosen.")
    with transaction.atomic():
        counting = SeatCountQuery(workshop_id=workshop.pk, hold_source=hold_source, submission_key=submission_key, now=now)
        counts = _lock_for_sale(workshop, counting)
        if not workshop.is_published or workshop.registration_state(now) != "open":
            raise RegistrationClosedError("Registration for this workshop is closed.")
        quote = price_for(tiers=workshop.tier_list, seat_count=seat_count, quote=from_quote)
        if counts.same_submission is not None:
            raise SameSubmissionError(counts.same_submission)
        taken, held_from_here = counts.taken, counts.held_from_network
        seats_left = max(workshop.capacity - taken, 0)
        if seat_count > seats_left:
            raise NotEnoughSeatsError(seats_left)
        voucher, discount, covered = None, 0, 0
        if voucher_code.strip():
            voucher = claim_voucher(code=voucher_code, workshop=workshop, now=now)
            discount, covered = code_discount(voucher=voucher, quote=quote, now=now)
        check_minimum_charge(total_cents=quote.total_cents - discount, voucher=voucher)
        if hold_source and quote.total_cents > discount:  # a free order is confirmed at once: no checkout holds it
            check_network_hold(held=held_from_here, seat_count=seat_count)
        order = Order(
            workshop=workshop,
            buyer_name=buyer_name,
            buyer_email=buyer_email,
            organisation=organisation,
            role=role,
            buyer_attends=buyer_attends,
            seat_count=seat_count,
            unit_price_cents=quote.unit_price_cents,
            subtotal_cents=quote.total_cents,
            discount_cents=discount,
            voucher=voucher,
            voucher_seat_count=covered,
            quote=from_quote,
            total_cents=quote.total_cents - discount,
            tier_min_seats=quote.tier_min_seats,
            price_tiers=tier_snapshot(workshop.tier_list, quote=from_quote),
            voucher_terms=voucher_snapshot(voucher),
            hold_expires_at=now + hold_duration(),
            is_test_payment=stripe_client.is_test_payment_mode(),
            hold_source=hold_source,
            submission_key=submission_key,
        )
        checkout_sql.save_order_with_seats(order, _seats(order=order, attendees=attendees))
    return order


def complete_free_order(*, order: Order) -> Order:
    """A 100 % scholarship: the order is confirmed without any payment step."""
    if order.total_cents != 0:
        raise OrderNotPayableError("This order has an amount to pay.")
    return fulfil_order(order=order)


def latest_hold_end(order: Order) -> datetime:
    """How long renewing can keep a pending order's seats: CHECKOUT_MAX_HOLD_MINUTES after a card order was
    placed, INVOICE_HOLD_DAYS after an invoice order was, so seats are never an open-ended free option."""
    if order.payment_method == Order.PaymentMethod.INVOICE:
        return order.created_at + timedelta(days=settings.INVOICE_HOLD_DAYS)
    return order.created_at + timedelta(minutes=settings.CHECKOUT_MAX_HOLD_MINUTES)


def renew_hold(*, order: Order, now: datetime, duration: timedelta | None = None) -> Order:
    """Hold a pending order's seats again (seats, code, registration and its network's card holds re-checked under
    the locks), never past latest_hold_end. Raises OrderNotPayableError, NotEnoughSeatsError, VoucherError,
    NetworkHoldLimitError."""
    with transaction.atomic():
        locked_workshop = Workshop.objects.select_for_update().get(pk=order.workshop_id)
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            raise OrderNotPayableError("This order can no longer be paid.")
        until = min(now + (duration or hold_duration()), latest_hold_end(order))
        # A Checkout Session must be open for at least 30 minutes; an invoice needs a day to be paid in.
        shortest = timedelta(days=1) if order.is_invoiced else timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES)
        if until - now < shortest:
            raise OrderNotPayableError(
                "Your seats have been held for as long as we can hold them without payment. Please register again."
            )
        if order.kind != Order.Kind.ADDITION and (
            not locked_workshop.is_published or locked_workshop.registration_state(now) != "open"
        ):
            raise OrderNotPayableError("Registration for this workshop has closed, so this order can no longer be paid.")
        left = seats_available(workshop=locked_workshop, now=now, exclude_order_id=order.pk)
        if order.active_seat_count > left:
            raise NotEnoughSeatsError(left)
        if order.hold_source and not order.is_invoiced:
            # Lapsed meanwhile, its seats stopped counting; the same network may have placed others since.
            held = card_seats_held_from(
                workshop_id=locked_workshop.pk, hold_source=order.hold_source, now=now, exclude_order_id=order.pk
            )
            check_network_hold(held=held, seat_count=order.active_seat_count, renewing=True)
        if order.is_invoiced and order.active_seat_count + invoice_seats_held(
            workshop_id=locked_workshop.pk, now=now, exclude_order_id=order.pk
        ) > invoice_seat_allowance(locked_workshop):
            raise OrderNotPayableError(
                "Unpaid invoices hold as many of this workshop's seats as we allow just now. Please pay by card or contact us."
            )
        if order.voucher_id and order.voucher_seat_count:
            # The code's seats lapsed with the hold; they may have gone to someone else meanwhile.
            voucher = Voucher.objects.select_for_update().get(pk=order.voucher_id)
            code_left = voucher_seats_left(voucher=voucher, now=now, exclude_order_id=order.pk)
            if not voucher.is_active or (code_left is not None and code_left < order.voucher_seat_count):
                raise VoucherError(
                    f"Code {voucher.code} has been used up since your seats were held. Please register again without it."
                )
            if voucher.valid_until and now >= voucher.valid_until and order.hold_expires_at <= now:
                raise VoucherError(
                    f"Code {voucher.code} ended while your seats were not held. Please register again without it."
                )
        order.hold_expires_at = until
        order.save(update_fields=["hold_expires_at", "updated_at"])
    return order


def start_checkout(*, order: Order, now: datetime | None = None) -> str:
    """Open a Checkout Session for a pending order and return the URL to send the buyer to.

    A retry within the same hold reuses the idempotency key, so Stripe hands back
    the same session rather than a second one that could also be paid.
    Raises OrderNotPayableError, NotEnoughSeatsError, stripe_client.PaymentProviderError.
    """
    now = now or timezone.now()
    # Read afresh (the webhook may have paid it meanwhile), with what the session's text needs.
    order = Order.objects.select_related("workshop", "parent").get(pk=order.pk)
    if order.status != Order.Status.PENDING:
        raise OrderNotPayableError("This order can no longer be paid.")
    _release_if_priced_for_another_seat_count(order)
    # Stripe needs at least 30 minutes left on a new session; renew the hold if it has less.
    if order.hold_expires_at - now < timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES):
        if _previous_session_was_paid(order=order):
            return order.get_absolute_url()
        order = renew_hold(order=order, now=now)
    return open_checkout_session(order=order, now=now)


def _release_if_priced_for_another_seat_count(order: Order) -> None:
    """Seats added later are priced for the seat count their order had then. If the order has grown since (another
    addition joined), paying this price would only be refused and returned when they join, so they are released
    instead and the lead adds them again at today's price.

    Raises OrderNotPayableError.
    """
    if order.kind != Order.Kind.ADDITION or order.priced_for_seat_count in (None, order.parent.seat_count):
        return
    if close_order(order=order, status=Order.Status.CANCELLED):
        stripe_client.expire_checkout_session(order.stripe_checkout_session_id)
    raise OrderNotPayableError(
        f"Your order has changed since these seats were priced (it has {order.parent.seat_count} seats now, not "
        f"{order.priced_for_seat_count}), so they were released and nothing was charged. Add them again from your "
        "order page to see what they cost now."
    )


def open_checkout_session(*, order: Order, now: datetime | None = None) -> str:
    """start_checkout without its checks, for an order place_order has just returned in this request:
    pending, with a whole hold ahead of it and its workshop at hand, so there is nothing to read again.

    Raises stripe_client.PaymentProviderError.
    """
    now = now or timezone.now()
    product_name, description = _checkout_text(order)
    try:
        session = stripe_client.create_checkout_session(
            order=order,
            product_name=product_name,
            description=description,
            expires_at=int(order.hold_expires_at.timestamp()),
            attempt=int(order.hold_expires_at.timestamp()),
        )
    except stripe_client.PaymentProviderError:
        Order.objects.filter(pk=order.pk).update(checkout_attempts=F("checkout_attempts") + 1)
        raise
    # Kept for good: a payment is accepted only from a session the site created, for the amount it asked.
    # (A retry within the hold gets the same session back: its row is there already.)
    checkout_sql.record_checkout_session(
        request=PaymentRequest(order=order, kind=PaymentRequest.Kind.CHECKOUT, provider_id=session.id,
                               amount_cents=order.total_cents, currency=settings.STRIPE_CURRENCY),
        session_url=session.url, is_test_payment=stripe_client.is_test_payment_mode(), now=now,
    )
    return session.url


def _previous_session_was_paid(*, order: Order) -> bool:
    """Before a renewed hold gets a new Checkout Session, settle the old one.

    Paid already (the webhook is on its way): fulfil now and open nothing new. Still open:
    expire it, so only one session for this order can ever be paid.
    Raises stripe_client.PaymentProviderError when Stripe cannot say (then no second session is opened).
    """
    session_id = order.stripe_checkout_session_id
    if not session_id or stripe_client.is_test_payment_mode() or order.payment_method != Order.PaymentMethod.CARD:
        return False
    session = stripe_payments.retrieve_session_payment(session_id)
    if session.payment_status in ("paid", "no_payment_required"):
        fulfil_order(order=order, payment=session_payment(session))
        return True
    if session.status == "open":
        stripe_client.expire_checkout_session(session_id)
    return False


def session_payment(session: stripe_payments.SessionPayment) -> ReceivedPayment:
    """A paid Checkout Session, as the ledger checks and records it."""
    return ReceivedPayment(
        source=Payment.Source.LOCAL if session.id.startswith("cs_local_") else Payment.Source.CHECKOUT,
        amount_cents=session.amount_total,
        currency=session.currency,
        payment_intent_id=session.payment_intent_id,
        checkout_session_id=session.id,
    )


def add_seat_alert(*, workshop: Workshop, email: str) -> SeatAlert:
    """Ask to be emailed when seats free up; asking twice keeps one request."""
    alert, _ = SeatAlert.objects.get_or_create(workshop=workshop, email=email.strip().lower())
    return alert


def addition_label(order: Order) -> str:
    seats = f"{order.seat_count} seat{'s' if order.seat_count != 1 else ''}"
    if order.tier_min_seats > 1:
        return f"Add {seats} (team price now {usd(order.unit_price_cents)} each)"
    return f"Add {seats} ({usd(order.unit_price_cents)} each)"


def _checkout_text(order: Order) -> tuple[str, str]:
    """The product name and description Stripe shows the buyer."""
    schedule = order.workshop.schedule  # the dates and times, and "on Zoom", beside the money
    if order.kind == Order.Kind.ADDITION:
        return addition_label(order), f"{order.workshop.title} – order {order.parent.reference}. {schedule}"
    seats = f"{order.seat_count} seat{'s' if order.seat_count != 1 else ''}"
    return order.workshop.title, f"{seats} – order {order.reference}. {schedule}"
