"""Writes for orders and seats. Every function here is keyword-only and owns its transaction."""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from workshops.models import Workshop
from workshops.selectors import quote_for
from workshops.templatetags.workshop_tags import usd

from . import emails, selectors, tasks
from .stripe import client as stripe_client
from .models import (
    Attendance,
    Certificate,
    Order,
    PreworkCompletion,
    Quote,
    ReminderSent,
    Refund,
    RefundPart,
    Seat,
    SeatAlert,
    Voucher,
    new_token,
    new_voucher_code,
)
from .selectors import seat_changes_open

logger = logging.getLogger(__name__)


class RegistrationError(Exception):
    """A problem the buyer can act on; the message is shown to them."""


class RegistrationClosedError(RegistrationError):
    pass


class NotEnoughSeatsError(RegistrationError):
    def __init__(self, seats_left: int):
        self.seats_left = seats_left
        if seats_left <= 0:
            message = "Sorry, this workshop is sold out."
        else:
            message = f"Only {seats_left} seat{'s' if seats_left != 1 else ''} left. Please choose {seats_left} or fewer."
        super().__init__(message)


class OrderNotPayableError(RegistrationError):
    pass


class SeatChangeError(RegistrationError):
    """A seat change the lead asked for cannot be made; `field` names the form field it concerns."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


class SeatChangesClosedError(SeatChangeError):
    pass


class PreworkError(RegistrationError):
    pass


class AttendanceError(Exception):
    """Attendance staff asked for cannot be recorded; the message says why."""


class CertificateError(RegistrationError):
    """No certificate for this seat: not complete yet, or revoked."""


class RefundError(Exception):
    """A refund staff asked for cannot be made; the message says why."""


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
    now: datetime | None = None,
) -> Order:
    """Create an order and hold its seats, never beyond capacity.

    The workshop row is locked while paid seats and live holds are counted, so
    concurrent buyers queue here for a moment instead of overselling. A voucher's
    row is locked the same way while its uses are counted.
    Raises RegistrationClosedError, NotEnoughSeatsError, NoPriceError, VoucherError.
    """
    now = now or timezone.now()
    if not 1 <= seat_count <= settings.MAX_SEATS_PER_ORDER:
        raise RegistrationError(f"Choose between 1 and {settings.MAX_SEATS_PER_ORDER} seats.")
    if len(attendees) > seat_count:
        raise RegistrationError("More attendees named than seats chosen.")
    with transaction.atomic():
        # The lock, and the capacity as it stands under it. Dates, sessions and prices are the
        # caller's copy of the workshop, read a moment ago in the same request.
        workshop.capacity, workshop.is_published = (
            Workshop.objects.select_for_update().filter(pk=workshop.pk).values_list("capacity", "is_published").get()
        )
        if not workshop.is_published or workshop.registration_state(now) != "open":
            raise RegistrationClosedError("Registration for this workshop is closed.")
        quote = selectors.price_for(tiers=workshop.tier_list, seat_count=seat_count, quote=from_quote)
        seats_left = selectors.seats_available(workshop=workshop, now=now)
        if seat_count > seats_left:
            raise NotEnoughSeatsError(seats_left)
        voucher, discount = None, 0
        if voucher_code.strip():
            voucher = _claim_voucher(code=voucher_code, workshop=workshop, now=now)
            discount = voucher.discount_cents(subtotal_cents=quote.total_cents, seat_count=seat_count)
        order = Order.objects.create(
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
            quote=from_quote,
            total_cents=quote.total_cents - discount,
            tier_min_seats=quote.tier_min_seats,
            hold_expires_at=now + hold_duration(),
            is_test_payment=stripe_client.is_test_payment_mode(),
        )
        Seat.objects.bulk_create(
            Seat(
                order=order,
                position=position,
                attendee_name=attendee.name,
                attendee_email=attendee.email,
                needs_captions=attendee.needs_captions,
                needs_interpreter=attendee.needs_interpreter,
                access_note=attendee.access_note,
            )
            for position, attendee in enumerate(
                attendees + [AttendeeData()] * (seat_count - len(attendees)), start=1
            )
        )
    return order


class VoucherError(RegistrationError):
    """The code cannot be used; the message goes beside the code field."""


def _usable_voucher(*, code: str, workshop: Workshop, now: datetime, lock: bool) -> Voucher:
    code = code.strip()
    if len(code) > 40 or not code.isprintable():
        raise VoucherError("This code is not valid. Check it and try again, or leave the box empty.")
    vouchers = Voucher.objects.select_for_update() if lock else Voucher.objects
    voucher = vouchers.filter(code=code.strip().upper()).first()
    if voucher is None or not voucher.is_active:
        raise VoucherError("This code is not valid. Check it and try again, or leave the box empty.")
    if voucher.workshop_id and voucher.workshop_id != workshop.pk:
        raise VoucherError("This code is for a different workshop.")
    if voucher.valid_from and now < voucher.valid_from:
        raise VoucherError(f"This code can be used from {timezone.localtime(voucher.valid_from, workshop.tz):%B %-d, %Y}.")
    if voucher.valid_until and now >= voucher.valid_until:
        raise VoucherError(f"This code expired on {timezone.localtime(voucher.valid_until, workshop.tz):%B %-d, %Y}.")
    if selectors.voucher_used_up(voucher=voucher, now=now):
        raise VoucherError("This code has already been used as many times as it allows.")
    return voucher


def _claim_voucher(*, code: str, workshop: Workshop, now: datetime) -> Voucher:
    # Called inside place_order's transaction: the voucher row stays locked until the
    # order holding it commits, so a code with one use left is never used twice.
    return _usable_voucher(code=code, workshop=workshop, now=now, lock=True)


def check_voucher(*, code: str, workshop: Workshop, now: datetime | None = None) -> Voucher:
    """Look a code up for a price preview or a quote. Raises VoucherError."""
    return _usable_voucher(code=code, workshop=workshop, now=now or timezone.now(), lock=False)


def complete_free_order(*, order: Order) -> Order:
    """A 100 % scholarship: the order is confirmed without any payment step."""
    if order.total_cents != 0:
        raise OrderNotPayableError("This order has an amount to pay.")
    return fulfil_order(order=order)


def create_quote(
    *,
    workshop: Workshop,
    contact_name: str,
    contact_email: str,
    organisation: str,
    seat_count: int,
    voucher_code: str = "",
    now: datetime | None = None,
) -> Quote:
    """Price seats for a purchase-order request, valid for QUOTE_VALID_DAYS or until registration closes.

    Raises NoPriceError, VoucherError.
    """
    now = now or timezone.now()
    price = quote_for(tiers=workshop.tier_list, seat_count=seat_count)
    voucher = check_voucher(code=voucher_code, workshop=workshop, now=now) if voucher_code.strip() else None
    discount = voucher.discount_cents(subtotal_cents=price.total_cents, seat_count=seat_count) if voucher else 0
    valid_until = now + timedelta(days=settings.QUOTE_VALID_DAYS)
    closes = workshop.registration_closes()
    if closes and closes < valid_until:
        valid_until = closes
    return Quote.objects.create(
        workshop=workshop,
        contact_name=contact_name,
        contact_email=contact_email,
        organisation=organisation,
        seat_count=seat_count,
        unit_price_cents=price.unit_price_cents,
        tier_min_seats=price.tier_min_seats,
        subtotal_cents=price.total_cents,
        discount_cents=discount,
        voucher=voucher,
        total_cents=price.total_cents - discount,
        valid_until=valid_until,
    )


# A pending order can have its hold renewed for a day at most, so nobody can keep seats forever.
MAX_ORDER_AGE_FOR_RENEWAL = timedelta(days=1)


def _renew_hold(*, order: Order, now: datetime, duration: timedelta | None = None) -> Order:
    with transaction.atomic():
        locked_workshop = Workshop.objects.select_for_update().get(pk=order.workshop_id)
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            raise OrderNotPayableError("This order can no longer be paid.")
        if now - order.created_at > MAX_ORDER_AGE_FOR_RENEWAL:
            raise OrderNotPayableError("This order was started more than a day ago. Please register again.")
        if order.kind != Order.Kind.ADDITION and (
            not locked_workshop.is_published or locked_workshop.registration_state(now) != "open"
        ):
            raise OrderNotPayableError("Registration for this workshop has closed, so this order can no longer be paid.")
        left = selectors.seats_available(workshop=locked_workshop, now=now, exclude_order_id=order.pk)
        if order.active_seat_count > left:
            raise NotEnoughSeatsError(left)
        if order.voucher_id:
            # The code's use lapsed with the hold; it may have gone to someone else meanwhile.
            voucher = Voucher.objects.select_for_update().get(pk=order.voucher_id)
            if not voucher.is_active or selectors.voucher_used_up(voucher=voucher, now=now, exclude_order_id=order.pk):
                raise VoucherError(
                    f"Code {voucher.code} has been used up since your seats were held. Please register again without it."
                )
        order.hold_expires_at = now + (duration or hold_duration())
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
    # Stripe needs at least 30 minutes left on a new session; renew the hold if it has less.
    if order.hold_expires_at - now < timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES):
        if _previous_session_was_paid(order=order):
            return order.get_absolute_url()
        order = _renew_hold(order=order, now=now)
    return open_checkout_session(order=order, now=now)


def open_checkout_session(*, order: Order, now: datetime | None = None) -> str:
    """start_checkout without its checks, for an order place_order has just returned in this request:
    pending, with a whole hold ahead of it and its workshop at hand, so there is nothing to read again.

    Raises stripe_client.PaymentProviderError.
    """
    now = now or timezone.now()
    product_name, description = _checkout_text(order)
    this_order = Order.objects.filter(pk=order.pk)
    try:
        session = stripe_client.create_checkout_session(
            order=order,
            product_name=product_name,
            description=description,
            expires_at=int(order.hold_expires_at.timestamp()),
            attempt=int(order.hold_expires_at.timestamp()),
        )
    except stripe_client.PaymentProviderError:
        this_order.update(checkout_attempts=F("checkout_attempts") + 1)
        raise
    this_order.update(
        checkout_attempts=F("checkout_attempts") + 1,
        stripe_checkout_session_id=session.id,
        stripe_checkout_url=session.url,
        is_test_payment=stripe_client.is_test_payment_mode(),
        updated_at=now,
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
    session = stripe_client.retrieve_checkout_session(session_id)
    if session.payment_status in ("paid", "no_payment_required"):
        fulfil_order(order=order, payment_intent_id=session.payment_intent_id, checkout_session_id=session.id)
        return True
    if session.status == "open":
        stripe_client.expire_checkout_session(session_id)
    return False


def _lock(order: Order) -> tuple[Workshop, Order]:
    # Always workshop first, then order: the same order place_order uses, so no deadlock.
    # (An order never moves to another workshop, so the caller's copy names the right row.)
    workshop = Workshop.objects.select_for_update().get(pk=order.workshop_id)
    order = Order.objects.select_for_update().get(pk=order.pk)
    order.workshop = workshop
    return workshop, order


def fulfil_order(*, order: Order, payment_intent_id: str = "", checkout_session_id: str = "") -> Order:
    """Mark an order paid once, confirm its seats and send the confirmation once.

    Called from the webhook and from the success page; a second call does nothing.
    A payment that arrives after the hold lapsed is accepted only if the seats are
    still free; otherwise the order is flagged and refunded, never oversold.
    """
    now = timezone.now()
    # No savepoint when nested (the webhook's transaction): any error rolls the whole delivery back anyway.
    with transaction.atomic(savepoint=False):
        workshop, order = _lock(order)
        if order.status in (Order.Status.PAID, Order.Status.NEEDS_REFUND, Order.Status.REFUNDED, Order.Status.MERGED):
            if payment_intent_id and order.stripe_payment_intent_id and payment_intent_id != order.stripe_payment_intent_id:
                # A second payment for an order already settled (two checkout tabs): give it back.
                order.staff_note = (
                    order.staff_note + f"\n{now:%Y-%m-%d %H:%M} UTC: a second payment ({payment_intent_id}) "
                    "arrived for this order and is being refunded in full."
                ).strip()
                order.save(update_fields=["staff_note", "updated_at"])
                tasks.refund_duplicate_payment.enqueue(order.pk, payment_intent_id)
            return order
        if payment_intent_id:
            order.stripe_payment_intent_id = payment_intent_id
        if checkout_session_id:
            order.stripe_checkout_session_id = checkout_session_id
        hold_is_live = order.status == Order.Status.PROCESSING or (
            order.status == Order.Status.PENDING and order.hold_expires_at > now
        )
        if not hold_is_live:
            left = selectors.seats_available(workshop=workshop, now=now, exclude_order_id=order.pk)
            problem = ""
            if order.active_seat_count > left:
                problem = f"only {left} seat(s) were left"
            elif order.voucher_id:
                voucher = Voucher.objects.select_for_update().get(pk=order.voucher_id)
                if selectors.voucher_used_up(voucher=voucher, now=now, exclude_order_id=order.pk):
                    problem = f"code {voucher.code} had been used up meanwhile"
            if problem:
                order.status = Order.Status.NEEDS_REFUND
                order.staff_note = (
                    f"{now:%Y-%m-%d %H:%M} UTC: paid after its seat hold lapsed and {problem}, "
                    "so the payment is being refunded."
                ).strip()
                order.save()
                # Stripe is called from a task after commit; the task row commits with this flag.
                tasks.refund_oversold_order.enqueue(order.pk)
                return order
        if order.kind == Order.Kind.ADDITION:
            return _merge_addition(addition=order, now=now)
        order.status = Order.Status.PAID
        order.paid_at = now
        order.confirmation_sent_at = now
        order.save()
        # Queued in this transaction: the email exists exactly when the payment is recorded.
        emails.send_order_confirmation(order=order)
    return order


def refund_oversold(*, order_id: int) -> None:
    """Refund an order that was paid after its hold lapsed and the seats were gone."""
    order = Order.objects.get(pk=order_id)
    if order.kind == Order.Kind.ADDITION:
        _refund_addition(order=order)
        return
    try:
        refund_seats(order=order, seats=list(order.seats.filter(status=Seat.Status.ACTIVE)), reason="Sold out after the hold lapsed")
    except (RefundError, stripe_client.PaymentProviderError):
        logger.exception("Automatic refund of %s failed; it stays marked 'refund due' for staff.", order.reference)
        return
    emails.send_oversold_refund_notice(order_id=order_id)


def mark_processing(*, order: Order, checkout_session_id: str = "") -> Order:
    """Checkout finished with a delayed payment method: keep the seats held until it settles."""
    with transaction.atomic():
        _, order = _lock(order)
        if order.status == Order.Status.PENDING:
            order.status = Order.Status.PROCESSING
            order.stripe_checkout_session_id = checkout_session_id or order.stripe_checkout_session_id
            order.save()
    return order


def _close(*, order: Order, status: str, checkout_session_id: str | None = None) -> bool:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if status == Order.Status.FAILED:
            allowed = (Order.Status.PENDING, Order.Status.PROCESSING)
        else:
            allowed = (Order.Status.PENDING,)
        if order.status not in allowed:
            return False
        # An old session lapsing must not close an order that has a newer one open.
        if checkout_session_id and order.stripe_checkout_session_id not in ("", checkout_session_id):
            return False
        order.status = status
        order.closed_at = timezone.now()
        order.save()
        emails.send_seat_alerts(workshop_id=order.workshop_id)
    return True


def expire_order(*, order: Order, checkout_session_id: str | None = None) -> bool:
    """The Checkout Session expired unpaid: free the seats. Returns whether anything changed."""
    return _close(order=order, status=Order.Status.EXPIRED, checkout_session_id=checkout_session_id)


def fail_order(*, order: Order) -> bool:
    """A delayed payment failed: free the seats."""
    return _close(order=order, status=Order.Status.FAILED)


def cancel_order(*, order: Order) -> bool:
    """The buyer left checkout: release the hold at once and close the Stripe session."""
    changed = _close(order=order, status=Order.Status.CANCELLED)
    if changed:
        stripe_client.expire_checkout_session(order.stripe_checkout_session_id)
    return changed


def refund_seats(*, order: Order, seats: list[Seat], reason: str = "") -> Refund:
    """Refund some or all seats of a paid order through Stripe, at the unit price paid.

    The seats stop counting against capacity at once. If Stripe refuses, nothing changes.
    Raises RefundError, stripe_client.PaymentProviderError.
    """
    if not seats:
        raise RefundError("Choose at least one seat to refund.")
    seat_ids = sorted(seat.pk for seat in seats)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in (Order.Status.PAID, Order.Status.NEEDS_REFUND):
            raise RefundError(f"Order {order.reference} is {order.get_status_display().lower()}, not paid.")
        active = list(order.seats.filter(pk__in=seat_ids, status=Seat.Status.ACTIVE))
        if len(active) != len(seat_ids):
            raise RefundError("Some of these seats are not active seats of this order.")
        amount = selectors.refund_amount_cents(order=order, seat_count=len(active))
        parts = selectors.refund_allocation(order=order, amount_cents=amount)
        previous_status = order.status
        order.seats.filter(pk__in=seat_ids).update(status=Seat.Status.REFUNDED, updated_at=timezone.now())
        order.refunded_seat_count += len(active)
        order.refunded_cents += amount
        if order.refunded_seat_count >= order.seat_count:
            order.status = Order.Status.REFUNDED
        order.save()
        refund = _record_refund(order=order, seat_count=len(active), amount_cents=amount, parts=parts, reason=reason)
    try:
        refund_ids, outside_cents = _refund_payments(
            order=order,
            parts=parts,
            # Stripe keys are at most 255 characters: a digest names the seat set at any team size.
            idempotency_key=f"refund-{order.reference}-{hashlib.sha256('-'.join(map(str, seat_ids)).encode()).hexdigest()[:24]}",
            reason=reason,
        )
    except stripe_client.PaymentProviderError:
        # Put everything back so staff can retry; the money never moved.
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            locked.seats.filter(pk__in=seat_ids).update(status=Seat.Status.ACTIVE)
            locked.refunded_seat_count -= len(active)
            locked.refunded_cents -= amount
            locked.status = previous_status
            locked.save()
            refund.delete()
        raise
    refund.stripe_refund_id = ", ".join(refund_ids)[:255]
    if outside_cents:
        refund.reason = (f"{reason} " if reason else "") + (
            f"({usd(outside_cents)} was paid outside Stripe, e.g. by cheque: return it the same way.)"
        )
    refund.save(update_fields=["stripe_refund_id", "reason"])
    return refund


def record_stripe_refund(*, order: Order, amount_refunded_cents: int, payment_intent_id: str = "") -> bool:
    """A `charge.refunded` event: catch up with refunds made in Stripe's dashboard.

    `amount_refunded_cents` is everything refunded from that one charge so far, so it is
    compared with what is recorded from that payment: refunds started here are recorded
    already and change nothing. An order that grew has one payment per batch of seats; the
    event's PaymentIntent says which one.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        paid_with = selectors.order_payments(order=order)
        payment = next((p for p in paid_with if payment_intent_id and p.payment_intent_id == payment_intent_id), None)
        payment = payment or paid_with[0]
        refunded = selectors.refunded_by_payment(order=order, payments=paid_with)
        extra = min(amount_refunded_cents, payment.amount_cents) - refunded[payment.order_id]
        if extra <= 0:
            return False
        order.refunded_cents = min(order.refunded_cents + extra, order.total_cents)
        _record_refund(order=order, seat_count=0, amount_cents=extra, parts=[(payment, extra)], reason="Refunded in Stripe")
        if order.refunded_cents >= order.total_cents:
            order.status = Order.Status.REFUNDED
            order.refunded_seat_count = order.seat_count
            order.seats.update(status=Seat.Status.REFUNDED)
        else:
            order.staff_note = (order.staff_note + f"\nPartial refund of {extra} cents made in Stripe.").strip()
        order.save()
    return True


def add_seat_alert(*, workshop: Workshop, email: str) -> SeatAlert:
    """Ask to be emailed when seats free up; asking twice keeps one request."""
    alert, _ = SeatAlert.objects.get_or_create(workshop=workshop, email=email.strip().lower())
    return alert


def ensure_seat_changes_open(*, order: Order, now: datetime | None = None) -> None:
    """Raises SeatChangesClosedError once the lead can no longer change seats, SeatChangeError if unpaid."""
    if order.status != Order.Status.PAID:
        raise SeatChangeError("Seats can be named or changed once the order is paid.")
    if not seat_changes_open(workshop=order.workshop, now=now):
        raise SeatChangesClosedError(
            "Seat changes have closed for this workshop. Please reply to your confirmation email and we will help."
        )


def change_seat(*, seat: Seat, name: str, email: str, new_person: bool, now: datetime | None = None) -> Seat:
    """Name an unnamed seat, correct its attendee's details, or give it to someone else.

    Whenever the email changes the seat gets a new token, so a link that went to the old
    address stops working, and the new address gets a welcome email. Giving the seat to a
    new person also clears the previous attendee's pre-work progress and access needs.
    Raises SeatChangesClosedError, SeatChangeError.
    """
    now = now or timezone.now()
    name, email = name.strip(), email.strip()
    with transaction.atomic():
        seat = Seat.objects.select_for_update(of=("self",)).select_related("order__workshop").get(pk=seat.pk)
        order = seat.order
        ensure_seat_changes_open(order=order, now=now)
        if seat.status != Seat.Status.ACTIVE:
            raise SeatChangeError("This seat was refunded and can no longer be changed.")
        if order.seats.filter(status=Seat.Status.ACTIVE, attendee_email__iexact=email).exclude(pk=seat.pk).exists():
            raise SeatChangeError("Another seat on this order already has this email.", field="email")
        was_named = bool(seat.attendee_email)
        email_changed = seat.attendee_email.lower() != email.lower()
        if new_person and was_named and not email_changed:
            raise SeatChangeError(
                "This seat already belongs to this email. Enter the new attendee's email, or choose to correct the details.",
                field="email",
            )
        if not email_changed and seat.attendee_name == name and seat.attendee_email == email:
            return seat
        seat.attendee_name = name
        seat.attendee_email = email
        if was_named and email_changed:
            seat.token = new_token()
        if email_changed:
            seat.welcome_sent_at = None
        if email_changed:
            # Reminders follow the person: the new address has had none yet.
            seat.reminders.all().delete()
        if new_person and was_named:
            seat.needs_captions = False
            seat.needs_interpreter = False
            seat.access_note = ""
            seat.prework_completions.all().delete()
        seat.save()
        if email_changed:
            # Queued in this transaction: keyed by the new token, so it goes out once per hand-over.
            emails.send_seat_welcome(seat_id=seat.pk)
    return seat


def set_prework_done(*, seat: Seat, module, done: bool) -> bool:
    """Mark one pre-work module done or not done for a seat; repeating either is harmless.

    Returns whether anything changed. Raises PreworkError for a seat whose order is not paid.
    """
    if seat.order.status != Order.Status.PAID or seat.status != Seat.Status.ACTIVE:
        raise PreworkError("Pre-work opens once the order is paid.")
    if module.workshop_id != seat.order.workshop_id:
        raise PreworkError("This module is not part of your workshop.")
    if done:
        _, created = PreworkCompletion.objects.get_or_create(seat=seat, module=module)
        return created
    deleted, _ = PreworkCompletion.objects.filter(seat=seat, module=module).delete()
    return bool(deleted)


def prework_reminder_days() -> int:
    return getattr(settings, "PREWORK_REMINDER_DAYS", 3)


def session_reminder_hours() -> int:
    return getattr(settings, "SESSION_REMINDER_HOURS", 24)


@dataclass(frozen=True)
class RemindersQueued:
    prework: int
    session: int


def _remind_once(*, seat: Seat, kind: str, session=None) -> bool:
    """Record the reminder and queue its email in one transaction; False if it was already sent."""
    try:
        with transaction.atomic():
            # A concurrent run inserting the same row waits here, then fails: one email per reminder.
            reminder = ReminderSent.objects.create(seat=seat, kind=kind, session=session, email=seat.attendee_email)
            if kind == ReminderSent.Kind.PREWORK:
                emails.send_prework_reminder(reminder_id=reminder.pk)
            else:
                emails.send_session_reminder(reminder_id=reminder.pk)
    except IntegrityError:
        return False
    return True


def send_due_reminders(*, now: datetime | None = None) -> RemindersQueued:
    """Queue every reminder that is due and not yet sent. Safe to run every few minutes.

    Pre-work: attendees of paid orders who have not finished it, from PREWORK_REMINDER_DAYS
    (default 3) days before the first session. Sessions: every attendee, from
    SESSION_REMINDER_HOURS (default 24) hours before each session. Raises nothing.
    """
    now = now or timezone.now()
    prework = sum(
        _remind_once(seat=seat, kind=ReminderSent.Kind.PREWORK)
        for seat in selectors.seats_due_prework_reminder(now=now, days_before=prework_reminder_days())
    )
    session_count = 0
    for session in selectors.sessions_due_reminder(now=now, hours_before=session_reminder_hours()):
        session_count += sum(
            _remind_once(seat=seat, kind=ReminderSent.Kind.SESSION, session=session)
            for seat in selectors.seats_due_session_reminder(session=session)
        )
    return RemindersQueued(prework=prework, session=session_count)


def issue_certificate(*, seat: Seat, reinstate: bool = False, now: datetime | None = None) -> Certificate:
    """The seat's certificate, issued on first request once pre-work and every live session are done.

    Asking again returns the same certificate and code. A revoked certificate stays revoked
    unless staff reinstate it (`reinstate=True`), which keeps its code and copies the current name.
    Raises CertificateError.
    """
    now = now or timezone.now()
    with transaction.atomic():
        seat = Seat.objects.select_for_update(of=("self",)).select_related("order__workshop").get(pk=seat.pk)
        if not selectors.completion_for_seat(seat).is_complete:
            raise CertificateError(
                "The certificate becomes available once all the pre-work is done and attendance at every live "
                "session is recorded."
            )
        workshop = seat.order.workshop
        certificate = Certificate.objects.filter(seat=seat).first()
        if certificate is None:
            return Certificate.objects.create(
                seat=seat, attendee_name=seat.attendee_name, hours=workshop.total_hours, issued_at=now
            )
        if certificate.is_revoked:
            if not reinstate:
                raise CertificateError("This certificate was withdrawn. Please contact us if you think this is a mistake.")
            certificate.revoked_at = None
            certificate.attendee_name = seat.attendee_name
            certificate.hours = workshop.total_hours
            certificate.issued_at = now
            certificate.save()
        return certificate


def revoke_certificate(*, certificate: Certificate, now: datetime | None = None) -> bool:
    """Withdraw a certificate: its verification page then says so. Returns whether it changed."""
    return bool(
        Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    )


def set_attendance(*, seats: list[Seat], session_number: int, attended: bool) -> int:
    """Record (or clear) attendance at the n-th session of each seat's own workshop.

    Only active seats of paid orders are marked. Returns how many seats changed.
    Raises AttendanceError when a seat's workshop has no session with that number.
    """
    changed = 0
    with transaction.atomic():
        for seat in seats:
            if seat.status != Seat.Status.ACTIVE or seat.order.status != Order.Status.PAID:
                continue
            sessions = list(seat.order.workshop.sessions.order_by("starts_at", "pk"))
            if not 1 <= session_number <= len(sessions):
                raise AttendanceError(f"{seat.order.workshop} has no session {session_number}.")
            session = sessions[session_number - 1]
            if attended:
                _, created = Attendance.objects.get_or_create(seat=seat, session=session)
                changed += created
            else:
                deleted, _ = Attendance.objects.filter(seat=seat, session=session).delete()
                changed += bool(deleted)
    return changed


def generate_vouchers(
    *,
    count: int,
    prefix: str,
    label: str,
    kind: str,
    percent_off: int | None,
    amount_off_cents: int | None,
    applies_to: str,
    workshop: Workshop | None,
    valid_until: datetime | None,
) -> list[Voucher]:
    """Create a batch of single-use codes (scholarships), each unguessable. Raises ValueError."""
    if not 1 <= count <= 500:
        raise ValueError("Generate between 1 and 500 codes at a time.")
    prefix = "".join(ch for ch in prefix.upper() if ch.isalnum())[:12]
    with transaction.atomic():
        vouchers = []
        while len(vouchers) < count:
            code = new_voucher_code(prefix)
            if Voucher.objects.filter(code=code).exists() or any(v.code == code for v in vouchers):
                continue
            vouchers.append(
                Voucher(
                    code=code,
                    label=label,
                    kind=kind,
                    percent_off=percent_off if kind == Voucher.Kind.PERCENT else None,
                    amount_off_cents=amount_off_cents if kind == Voucher.Kind.FIXED else None,
                    applies_to=applies_to,
                    workshop=workshop,
                    valid_until=valid_until,
                    max_uses=1,
                )
            )
        Voucher.objects.bulk_create(vouchers)
    return vouchers


# --- Paying by invoice (purchase orders) -------------------------------------------------


class InvoiceError(Exception):
    """An invoice action staff asked for cannot be done; the message says why."""


@dataclass(frozen=True)
class BillingDetails:
    """Who receives and pays the invoice, and the purchase-order number to print on it."""

    name: str
    email: str
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""
    country: str = "US"
    po_number: str = ""


def invoice_hold_days() -> int:
    return getattr(settings, "INVOICE_HOLD_DAYS", 14)


def invoice_reminder_days() -> int:
    return getattr(settings, "INVOICE_REMINDER_DAYS", 3)


def invoice_hold_duration() -> timedelta:
    return timedelta(days=invoice_hold_days())


def _apply_billing(order: Order, billing: BillingDetails) -> None:
    order.payment_method = Order.PaymentMethod.INVOICE
    order.billing_name = billing.name.strip()
    order.billing_email = billing.email.strip()
    order.billing_line1 = billing.line1.strip()
    order.billing_line2 = billing.line2.strip()
    order.billing_city = billing.city.strip()
    order.billing_state = billing.state.strip()
    order.billing_postal_code = billing.postal_code.strip()
    order.billing_country = (billing.country.strip() or "US").upper()
    order.po_number = billing.po_number.strip()


def place_invoice_order(*, billing: BillingDetails, now: datetime | None = None, **order_fields) -> Order:
    """place_order for an organisation paying by invoice: the seats are held for INVOICE_HOLD_DAYS (default 14).

    Takes place_order's keyword arguments, and raises what it raises.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # One transaction with place_order's, so its workshop lock lasts until the longer hold is saved.
        order = place_order(now=now, **order_fields)
        _apply_billing(order, billing)
        order.hold_expires_at = now + invoice_hold_duration()
        order.save()
    return order


def _addition_label(order: Order) -> str:
    seats = f"{order.seat_count} seat{'s' if order.seat_count != 1 else ''}"
    if order.tier_min_seats > 1:
        return f"Add {seats} (team price now {usd(order.unit_price_cents)} each)"
    return f"Add {seats} ({usd(order.unit_price_cents)} each)"


def _checkout_text(order: Order) -> tuple[str, str]:
    """The product name and description Stripe shows the buyer."""
    if order.kind == Order.Kind.ADDITION:
        return _addition_label(order), f"{order.workshop.title} – order {order.parent.reference}"
    seats = f"{order.seat_count} seat{'s' if order.seat_count != 1 else ''}"
    return order.workshop.title, f"{seats} – order {order.reference}"


def _invoice_lines(order: Order) -> list[stripe_client.InvoiceLine]:
    """Invoice items adding up to exactly the order's total."""
    if order.kind == Order.Kind.ADDITION:
        label = f"{order.workshop.title}: {_addition_label(order)}, order {order.parent.reference}"
        return [stripe_client.InvoiceLine(description=label, unit_amount_cents=order.total_cents)]
    price = "team price" if order.tier_min_seats > 1 else "per participant"
    lines = [
        stripe_client.InvoiceLine(
            description=f"{order.workshop.title}: seat ({price}), order {order.reference}",
            quantity=order.seat_count,
            unit_amount_cents=order.unit_price_cents,
        )
    ]
    discount = order.unit_price_cents * order.seat_count - order.total_cents
    if discount > 0:
        code = f" (code {order.voucher.code})" if order.voucher_id else ""
        lines.append(stripe_client.InvoiceLine(description=f"Discount{code}", amount_cents=-discount))
    return lines


def start_invoice(*, order: Order, now: datetime | None = None) -> Order:
    """Create, finalize and send the Stripe invoice for a pending invoice order.

    A retry resumes where a failed attempt stopped (each step is stored, and has its own
    idempotency key); an invoice already sent is not sent again. A lapsed hold is renewed
    for INVOICE_HOLD_DAYS if the seats are still free.
    Raises OrderNotPayableError, NotEnoughSeatsError, stripe_client.PaymentProviderError.
    """
    now = now or timezone.now()
    order.refresh_from_db()
    if order.status != Order.Status.PENDING or order.payment_method != Order.PaymentMethod.INVOICE:
        raise OrderNotPayableError("This order can no longer be paid.")
    if order.invoice_status == Order.InvoiceStatus.OPEN and order.stripe_invoice_url:
        return order
    if order.hold_expires_at <= now:
        order = _renew_hold(order=order, now=now, duration=invoice_hold_duration())
    Order.objects.filter(pk=order.pk).update(checkout_attempts=F("checkout_attempts") + 1)
    title = order.workshop.title if order.kind == Order.Kind.PURCHASE else f"{order.workshop.title} (seats added)"
    try:
        invoice = stripe_client.issue_invoice(
            order=order,
            lines=_invoice_lines(order),
            days_until_due=invoice_hold_days(),
            description=f"{title}, order {order.reference}. Seats are held until this invoice is due.",
            customer_id=order.stripe_customer_id,
            invoice_id=order.stripe_invoice_id,
        )
    except stripe_client.InvoiceStepError as exc:
        # Keep what was created, so the retry continues with the same customer and invoice.
        Order.objects.filter(pk=order.pk).update(
            stripe_customer_id=exc.customer_id or order.stripe_customer_id,
            stripe_invoice_id=exc.invoice_id or order.stripe_invoice_id,
            invoice_status=Order.InvoiceStatus.DRAFT if exc.invoice_id else order.invoice_status,
            updated_at=now,
        )
        raise
    due_at = datetime.fromtimestamp(invoice.due_date, tz=UTC) if invoice.due_date else order.hold_expires_at
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        order.stripe_customer_id = invoice.customer_id
        order.stripe_invoice_id = invoice.id
        order.invoice_number = invoice.number
        order.invoice_due_at = due_at
        order.stripe_invoice_url = invoice.hosted_invoice_url
        order.is_test_payment = stripe_client.is_test_payment_mode()
        # A webhook may already have recorded a payment; never move it back to "open".
        if order.invoice_status in ("", Order.InvoiceStatus.DRAFT) and invoice.status in Order.InvoiceStatus.values:
            order.invoice_status = invoice.status
        order.save()
        if order.status == Order.Status.PENDING:
            emails.send_invoice_issued(order_id=order.pk)
    return order


def record_invoice_paid(
    *, order: Order, invoice_id: str = "", payment_intent_id: str = "", paid_out_of_band: bool = False
) -> Order:
    """An invoice was paid (on Stripe's page, or out of band): fulfil the order once.

    A payment after the hold lapsed follows fulfil_order's rule: accepted while the seats
    are still free, refunded otherwise. Repeats change nothing.
    """
    if invoice_id and order.stripe_invoice_id and invoice_id != order.stripe_invoice_id:
        logger.warning("invoice.paid for %s, which is not order %s's invoice", invoice_id, order.reference)
        return order
    with transaction.atomic():
        # fulfil_order takes the workshop and order locks first, in the usual order.
        order = fulfil_order(order=order, payment_intent_id=payment_intent_id)
        changes = {"invoice_status": Order.InvoiceStatus.PAID, "updated_at": timezone.now()}
        if paid_out_of_band:
            changes["invoice_paid_out_of_band"] = True
        if invoice_id and not order.stripe_invoice_id:
            changes["stripe_invoice_id"] = invoice_id
        Order.objects.filter(pk=order.pk).update(**changes)
    order.refresh_from_db()
    return order


def close_invoice_order(*, order: Order, invoice_id: str, invoice_status: str) -> bool:
    """The invoice was voided or written off in Stripe: close the order and free its seats.

    An event about some other invoice than the order's own changes nothing. Returns
    whether the order was closed.
    """
    if order.stripe_invoice_id and invoice_id and order.stripe_invoice_id != invoice_id:
        return False
    with transaction.atomic():
        changed = _close(order=order, status=Order.Status.CANCELLED)
        Order.objects.filter(pk=order.pk).exclude(invoice_status=Order.InvoiceStatus.PAID).update(
            invoice_status=invoice_status, updated_at=timezone.now()
        )
    return changed


def mark_invoice_paid_out_of_band(*, order: Order) -> Order:
    """Staff received the money outside Stripe (a cheque): mark the invoice paid in Stripe and fulfil the order.

    The `invoice.paid` event Stripe sends afterwards finds the order paid and changes nothing.
    Raises InvoiceError, stripe_client.PaymentProviderError (e.g. the invoice was voided).
    """
    order.refresh_from_db()
    if order.payment_method != Order.PaymentMethod.INVOICE or not order.stripe_invoice_id:
        raise InvoiceError(f"{order.reference} has no invoice.")
    if order.status not in (Order.Status.PENDING, Order.Status.EXPIRED) or order.invoice_status == Order.InvoiceStatus.PAID:
        raise InvoiceError(f"{order.reference} is {order.get_status_display().lower()}; only an unpaid invoice can be marked paid.")
    stripe_client.pay_invoice_out_of_band(order.stripe_invoice_id, idempotency_key=f"invoice-paid-out-of-band-{order.reference}")
    return record_invoice_paid(order=order, invoice_id=order.stripe_invoice_id, paid_out_of_band=True)


def set_po_number(*, order: Order, po_number: str) -> Order:
    """The buyer adds, changes or clears the purchase-order number printed on the receipt.

    Raises RegistrationError for an order that was closed unpaid.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in (Order.Status.PENDING, Order.Status.PROCESSING, Order.Status.PAID):
            raise RegistrationError("This order is closed, so its purchase-order number can no longer change.")
        order.po_number = po_number.strip()
        order.save(update_fields=["po_number", "updated_at"])
    return order


@dataclass(frozen=True)
class InvoicesTidied:
    reminded: int
    lapsed: int
    voided: int


def _remind_invoice_once(*, order: Order, now: datetime) -> bool:
    with transaction.atomic():
        # The conditional update is the once-only guard: an overlapping run updates nothing and sends nothing.
        claimed = Order.objects.filter(
            pk=order.pk, status=Order.Status.PENDING, invoice_reminder_sent_at__isnull=True
        ).update(invoice_reminder_sent_at=now)
        if claimed:
            emails.send_invoice_reminder(order_id=order.pk)
    return bool(claimed)


def _lapse_invoice_order(*, order: Order, now: datetime) -> bool:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.PENDING or locked.hold_expires_at > now:
            return False
        if not _close(order=locked, status=Order.Status.EXPIRED):
            return False
        emails.send_invoice_lapsed(order_id=locked.pk)
    return True


def tidy_invoices(*, now: datetime | None = None) -> InvoicesTidied:
    """Remind before an unpaid invoice's seat hold lapses, and close and void the ones that lapsed.

    The reminder goes out once, INVOICE_REMINDER_DAYS (default 3) days before. A lapsed
    hold already stopped counting against capacity; this closes the order, tells the buyer,
    and voids the invoice in Stripe so it can no longer be paid (retried on the next run
    if Stripe is down). Safe to run every few minutes. Raises nothing.
    """
    now = now or timezone.now()
    reminded = sum(
        _remind_invoice_once(order=order, now=now)
        for order in selectors.invoice_orders_due_reminder(now=now, days_before=invoice_reminder_days())
    )
    lapsed = sum(_lapse_invoice_order(order=order, now=now) for order in selectors.invoice_orders_lapsed(now=now))
    voided = 0
    for order in selectors.invoices_to_void():
        try:
            stripe_client.void_invoice(order.stripe_invoice_id, idempotency_key=f"invoice-void-{order.reference}")
        except stripe_client.PaymentProviderError:
            # Paid a moment ago (its webhook decides), or Stripe is down (the next run retries).
            logger.warning("Could not void invoice %s of %s yet", order.stripe_invoice_id, order.reference)
            continue
        voided += Order.objects.filter(pk=order.pk, invoice_status=Order.InvoiceStatus.OPEN).update(
            invoice_status=Order.InvoiceStatus.VOID, updated_at=now
        )
    return InvoicesTidied(reminded=reminded, lapsed=lapsed, voided=voided)


def _record_refund(*, order: Order, seat_count: int, amount_cents: int, parts: list, reason: str) -> Refund:
    """A refund and the payments it comes out of (selectors.refund_allocation), inside the caller's transaction."""
    refund = Refund.objects.create(order=order, seat_count=seat_count, amount_cents=amount_cents, reason=reason)
    RefundPart.objects.bulk_create(
        RefundPart(refund=refund, payment_id=payment.order_id, amount_cents=cents) for payment, cents in parts
    )
    return refund


def _refund_payments(*, order: Order, parts: list, idempotency_key: str, reason: str) -> tuple[list[str], int]:
    """Send a refund back through the payments it came from (selectors.refund_allocation).

    An order that grew was paid in several payments (its own and one per batch of seats
    added); each part of the refund goes to one of them. Returns the Stripe refund ids and
    the cents that were paid outside Stripe (a cheque), which staff return themselves.
    Raises stripe_client.PaymentProviderError.
    """
    refund_ids, outside = [], 0
    for payment, cents in parts:
        intent = payment.payment_intent_id
        if not intent and payment.invoice_id:
            intent = stripe_client.invoice_payment_intent_id(payment.invoice_id)
            if not intent:
                outside += cents
                continue
            Order.objects.filter(pk=payment.order_id).update(stripe_payment_intent_id=intent)
        key = idempotency_key if payment.order_id == order.pk else f"{idempotency_key}-{payment.reference}"
        refund_ids.append(
            stripe_client.create_refund(payment_intent_id=intent, amount_cents=cents, idempotency_key=key, reason_note=reason)
        )
    return refund_ids, outside


# --- A team grows: seats added to a paid order --------------------------------------------


def place_addition(
    *, order: Order, extra_seats: int, billing: BillingDetails | None = None, now: datetime | None = None
) -> Order:
    """Hold more seats for a paid order; the team pays only the difference to the new tier's total.

    The price is recomputed on the order's new seat count (3 seats paid at $120 growing to
    5 at $100 each costs $500 - $360 = $140). The seats are held like a new order's (31
    minutes for Checkout, INVOICE_HOLD_DAYS with `billing`), under the same workshop lock
    and capacity count as place_order, and join the order when paid.
    Raises SeatChangesClosedError, SeatChangeError, RegistrationClosedError, NotEnoughSeatsError, NoPriceError.
    """
    now = now or timezone.now()
    if extra_seats < 1:
        raise SeatChangeError("Add at least one seat.", field="extra_seats")
    with transaction.atomic():
        workshop = Workshop.objects.select_for_update().get(pk=order.workshop_id)
        parent = Order.objects.select_for_update().get(pk=order.pk)
        ensure_seat_changes_open(order=parent, now=now)
        if parent.kind != Order.Kind.PURCHASE:
            raise SeatChangeError("Seats can only be added to the original order.")
        if not workshop.is_published or workshop.registration_state(now) != "open":
            raise RegistrationClosedError("Registration has closed, so seats can no longer be added online.")
        if not workshop.is_listed:
            # The course's seats go to invited people from the waitlist, not to whoever holds an order.
            raise SeatChangeError("Seats for the course are offered from the waitlist; please write to us.", field="extra_seats")
        if parent.refunded_seat_count:
            raise SeatChangeError(
                "Seats on this order were refunded, so please reply to your confirmation email and we will add seats for you."
            )
        if selectors.pending_addition(order=parent, now=now) is not None:
            raise SeatChangeError("You have added seats that are still awaiting payment. Pay for them or cancel them first.")
        new_count = parent.seat_count + extra_seats
        if new_count > settings.MAX_SEATS_PER_ORDER:
            room = settings.MAX_SEATS_PER_ORDER - parent.seat_count
            raise SeatChangeError(
                f"One order can hold up to {settings.MAX_SEATS_PER_ORDER} seats, so you can add {max(room, 0)} more.",
                field="extra_seats",
            )
        left = selectors.seats_available(workshop=workshop, now=now)
        if extra_seats > left:
            raise NotEnoughSeatsError(left)
        quote = selectors.growth_price(order=parent, tiers=list(workshop.price_tiers.all()), seat_count=new_count)
        difference = selectors.addition_difference_cents(order=parent, new_total_cents=quote.total_cents)
        if difference <= 0:
            raise SeatChangeError("Please reply to your confirmation email and we will add these seats for you.")
        addition = Order(
            workshop=workshop,
            kind=Order.Kind.ADDITION,
            parent=parent,
            buyer_name=parent.buyer_name,
            buyer_email=parent.buyer_email,
            organisation=parent.organisation,
            role=parent.role,
            buyer_attends=False,
            seat_count=extra_seats,
            unit_price_cents=quote.unit_price_cents,
            subtotal_cents=difference,
            total_cents=difference,
            tier_min_seats=quote.tier_min_seats,
            hold_expires_at=now + (invoice_hold_duration() if billing else hold_duration()),
            is_test_payment=stripe_client.is_test_payment_mode(),
        )
        if billing is not None:
            _apply_billing(addition, billing)
        addition.save()
    return addition


def _merge_addition(*, addition: Order, now: datetime) -> Order:
    """Paid seats join their order in this transaction: the order's seat count, tier and total
    change, new unnamed seats appear, and the addition stops counting on its own."""
    # Called by fulfil_order with the workshop and the addition locked; the parent is locked last.
    parent = Order.objects.select_for_update().get(pk=addition.parent_id)
    addition.paid_at = now
    if parent.status != Order.Status.PAID or parent.refunded_seat_count:
        addition.status = Order.Status.NEEDS_REFUND
        addition.staff_note = (
            f"{now:%Y-%m-%d %H:%M} UTC: paid, but order {parent.reference} is "
            f"{parent.get_status_display().lower()} or had seats refunded, so the payment is being refunded."
        )
        addition.save()
        tasks.refund_oversold_order.enqueue(addition.pk)
        return addition
    first = (parent.seats.aggregate(n=Max("position"))["n"] or 0) + 1
    Seat.objects.bulk_create(Seat(order=parent, position=p) for p in range(first, first + addition.seat_count))
    parent.seat_count += addition.seat_count
    parent.unit_price_cents = addition.unit_price_cents
    parent.tier_min_seats = addition.tier_min_seats
    parent.subtotal_cents = parent.unit_price_cents * parent.seat_count
    parent.total_cents += addition.total_cents
    parent.save()
    addition.status = Order.Status.MERGED
    addition.save()
    emails.send_seats_added(addition_id=addition.pk)
    return addition


def _refund_addition(*, order: Order) -> None:
    """Refund an addition whose seats could not join its order (paid too late, or the order was refunded)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.NEEDS_REFUND:
            return
        # Whatever staff already refunded by hand in Stripe's dashboard is recorded; the rest goes back now.
        left = order.total_cents - order.refunded_cents
        parts = selectors.refund_allocation(order=order, amount_cents=left)
        already_refunded = order.refunded_cents
        order.status = Order.Status.REFUNDED
        order.refunded_cents = order.total_cents
        order.refunded_seat_count = order.seat_count
        order.save()
        refund = _record_refund(
            order=order, seat_count=order.seat_count, amount_cents=left, parts=parts,
            reason="Added seats could not join the order",
        )
    try:
        refund_ids, outside = _refund_payments(
            order=order, parts=parts, idempotency_key=f"refund-{order.reference}", reason=refund.reason
        )
    except stripe_client.PaymentProviderError:
        logger.exception("Automatic refund of added seats %s failed; it stays marked 'refund due'.", order.reference)
        with transaction.atomic():
            Order.objects.filter(pk=order.pk).update(
                status=Order.Status.NEEDS_REFUND, refunded_cents=already_refunded, refunded_seat_count=0
            )
            refund.delete()
        return
    refund.stripe_refund_id = ", ".join(refund_ids)[:255]
    if outside:
        refund.reason += f" ({usd(outside)} was paid outside Stripe: return it the same way.)"
    refund.save(update_fields=["stripe_refund_id", "reason"])
    emails.send_oversold_refund_notice(order_id=order.pk)


def cancel_addition(*, order: Order) -> bool:
    """The lead withdraws seats they added and have not paid for: release them now.

    Their Checkout Session is expired; their invoice is voided by the next tidy_invoices run
    (or here, when Stripe answers). Returns whether anything was cancelled.
    """
    addition = selectors.pending_addition(order=order)
    if addition is None or not _close(order=addition, status=Order.Status.CANCELLED):
        return False
    stripe_client.expire_checkout_session(addition.stripe_checkout_session_id)
    if addition.stripe_invoice_id and addition.invoice_status == Order.InvoiceStatus.OPEN:
        try:
            stripe_client.void_invoice(addition.stripe_invoice_id, idempotency_key=f"invoice-void-{addition.reference}")
        except stripe_client.PaymentProviderError:
            return True
        Order.objects.filter(pk=addition.pk).update(invoice_status=Order.InvoiceStatus.VOID)
    return True


def refund_duplicate_payment(*, order_id: int, payment_intent_id: str) -> str:
    """Refund a second payment made for an order that was already settled. Returns the refund id.

    Raises stripe_client.PaymentProviderError (the task is then retried by staff from the note).
    """
    order = Order.objects.get(pk=order_id)
    refund_id = stripe_client.create_refund(
        payment_intent_id=payment_intent_id,
        amount_cents=order.total_cents,
        idempotency_key=f"duplicate-{payment_intent_id}"[:255],
        reason_note=f"Duplicate payment for order {order.reference}",
    )
    Order.objects.filter(pk=order_id).update(
        staff_note=(order.staff_note + f"\nDuplicate payment {payment_intent_id} refunded ({refund_id}).").strip()
    )
    return refund_id
