"""Writes for orders and seats. Every function here is keyword-only and owns its transaction."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from workshops.models import Workshop
from workshops.selectors import quote_for

from . import emails, payments, selectors, tasks
from .models import Attendance, Certificate, Order, PreworkCompletion, ReminderSent, Refund, Seat, SeatAlert, new_token
from .selectors import seat_changes_open, seats_taken

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
    now: datetime | None = None,
) -> Order:
    """Create an order and hold its seats, never beyond capacity.

    The workshop row is locked while paid seats and live holds are counted, so
    concurrent buyers queue here for a moment instead of overselling.
    Raises RegistrationClosedError, NotEnoughSeatsError, NoPriceError.
    """
    now = now or timezone.now()
    if not 1 <= seat_count <= settings.MAX_SEATS_PER_ORDER:
        raise RegistrationError(f"Choose between 1 and {settings.MAX_SEATS_PER_ORDER} seats.")
    if len(attendees) > seat_count:
        raise RegistrationError("More attendees named than seats chosen.")
    with transaction.atomic():
        locked = Workshop.objects.select_for_update().get(pk=workshop.pk)
        if not locked.is_published or locked.registration_state(now) != "open":
            raise RegistrationClosedError("Registration for this workshop is closed.")
        quote = quote_for(tiers=list(locked.price_tiers.all()), seat_count=seat_count)
        seats_left = locked.capacity - seats_taken(workshop_id=locked.pk, now=now)
        if seat_count > seats_left:
            raise NotEnoughSeatsError(seats_left)
        order = Order.objects.create(
            workshop=locked,
            buyer_name=buyer_name,
            buyer_email=buyer_email,
            organisation=organisation,
            role=role,
            buyer_attends=buyer_attends,
            seat_count=seat_count,
            unit_price_cents=quote.unit_price_cents,
            total_cents=quote.total_cents,
            tier_min_seats=quote.tier_min_seats,
            hold_expires_at=now + hold_duration(),
            is_test_payment=payments.is_test_payment_mode(),
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


def _renew_hold(*, order: Order, now: datetime) -> Order:
    with transaction.atomic():
        locked_workshop = Workshop.objects.select_for_update().get(pk=order.workshop_id)
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            raise OrderNotPayableError("This order can no longer be paid.")
        left = locked_workshop.capacity - seats_taken(workshop_id=locked_workshop.pk, now=now, exclude_order_id=order.pk)
        if order.active_seat_count > left:
            raise NotEnoughSeatsError(left)
        order.hold_expires_at = now + hold_duration()
        order.save(update_fields=["hold_expires_at", "updated_at"])
    return order


def start_checkout(*, order: Order, now: datetime | None = None) -> str:
    """Open a Checkout Session for a pending order and return the URL to send the buyer to.

    A retry within the same hold reuses the idempotency key, so Stripe hands back
    the same session rather than a second one that could also be paid.
    Raises OrderNotPayableError, NotEnoughSeatsError, payments.PaymentProviderError.
    """
    now = now or timezone.now()
    order.refresh_from_db()
    if order.status != Order.Status.PENDING:
        raise OrderNotPayableError("This order can no longer be paid.")
    # Stripe needs at least 30 minutes left on a new session; renew the hold if it has less.
    if order.hold_expires_at - now < timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES):
        order = _renew_hold(order=order, now=now)
    Order.objects.filter(pk=order.pk).update(checkout_attempts=F("checkout_attempts") + 1)
    session = payments.create_checkout_session(
        order=order,
        product_name=order.workshop.title,
        description=f"{order.seat_count} seat{'s' if order.seat_count != 1 else ''} – order {order.reference}",
        expires_at=int(order.hold_expires_at.timestamp()),
        attempt=int(order.hold_expires_at.timestamp()),
    )
    Order.objects.filter(pk=order.pk).update(
        stripe_checkout_session_id=session.id,
        stripe_checkout_url=session.url,
        is_test_payment=payments.is_test_payment_mode(),
        updated_at=now,
    )
    return session.url


def _lock(order_id: int) -> tuple[Workshop, Order]:
    # Always workshop first, then order: the same order place_order uses, so no deadlock.
    workshop_id = Order.objects.values_list("workshop_id", flat=True).get(pk=order_id)
    workshop = Workshop.objects.select_for_update().get(pk=workshop_id)
    order = Order.objects.select_for_update().get(pk=order_id)
    return workshop, order


def fulfil_order(*, order: Order, payment_intent_id: str = "", checkout_session_id: str = "") -> Order:
    """Mark an order paid once, confirm its seats and send the confirmation once.

    Called from the webhook and from the success page; a second call does nothing.
    A payment that arrives after the hold lapsed is accepted only if the seats are
    still free; otherwise the order is flagged and refunded, never oversold.
    """
    now = timezone.now()
    with transaction.atomic():
        workshop, order = _lock(order.pk)
        if order.status in (Order.Status.PAID, Order.Status.NEEDS_REFUND, Order.Status.REFUNDED):
            return order
        if payment_intent_id:
            order.stripe_payment_intent_id = payment_intent_id
        if checkout_session_id:
            order.stripe_checkout_session_id = checkout_session_id
        hold_is_live = order.status == Order.Status.PROCESSING or (
            order.status == Order.Status.PENDING and order.hold_expires_at > now
        )
        if not hold_is_live:
            left = workshop.capacity - seats_taken(workshop_id=workshop.pk, now=now, exclude_order_id=order.pk)
            if order.active_seat_count > left:
                order.status = Order.Status.NEEDS_REFUND
                order.staff_note = (
                    f"{now:%Y-%m-%d %H:%M} UTC: paid after its seat hold lapsed and only {max(left, 0)} seat(s) "
                    "were left, so the payment is being refunded."
                ).strip()
                order.save()
                # Stripe is called from a task after commit; the task row commits with this flag.
                tasks.refund_oversold_order.enqueue(order.pk)
                return order
        order.status = Order.Status.PAID
        order.paid_at = now
        order.confirmation_sent_at = now
        order.save()
        # Queued in this transaction: the email exists exactly when the payment is recorded.
        emails.send_order_confirmation(order_id=order.pk)
    return order


def refund_oversold(*, order_id: int) -> None:
    """Refund an order that was paid after its hold lapsed and the seats were gone."""
    order = Order.objects.get(pk=order_id)
    try:
        refund_seats(order=order, seats=list(order.seats.filter(status=Seat.Status.ACTIVE)), reason="Sold out after the hold lapsed")
    except (RefundError, payments.PaymentProviderError):
        logger.exception("Automatic refund of %s failed; it stays marked 'refund due' for staff.", order.reference)
        return
    emails.send_oversold_refund_notice(order_id=order_id)


def mark_processing(*, order: Order, checkout_session_id: str = "") -> Order:
    """Checkout finished with a delayed payment method: keep the seats held until it settles."""
    with transaction.atomic():
        _, order = _lock(order.pk)
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
        payments.expire_checkout_session(order.stripe_checkout_session_id)
    return changed


def refund_seats(*, order: Order, seats: list[Seat], reason: str = "") -> Refund:
    """Refund some or all seats of a paid order through Stripe, at the unit price paid.

    The seats stop counting against capacity at once. If Stripe refuses, nothing changes.
    Raises RefundError, payments.PaymentProviderError.
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
        previous_status = order.status
        order.seats.filter(pk__in=seat_ids).update(status=Seat.Status.REFUNDED, updated_at=timezone.now())
        order.refunded_seat_count += len(active)
        order.refunded_cents += amount
        if order.refunded_seat_count >= order.seat_count:
            order.status = Order.Status.REFUNDED
        order.save()
        refund = Refund.objects.create(order=order, seat_count=len(active), amount_cents=amount, reason=reason)
    try:
        refund_id = payments.create_refund(
            payment_intent_id=order.stripe_payment_intent_id,
            amount_cents=amount,
            idempotency_key=f"refund-{order.reference}-{'-'.join(map(str, seat_ids))}",
            reason_note=reason,
        )
    except payments.PaymentProviderError:
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
    refund.stripe_refund_id = refund_id
    refund.save(update_fields=["stripe_refund_id"])
    return refund


def record_stripe_refund(*, order: Order, amount_refunded_cents: int) -> bool:
    """A `charge.refunded` event: catch up with refunds made in Stripe's dashboard.

    Refunds started here already moved `refunded_cents`, so their events change nothing.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        extra = amount_refunded_cents - order.refunded_cents
        if extra <= 0:
            return False
        order.refunded_cents = min(amount_refunded_cents, order.total_cents)
        Refund.objects.create(order=order, seat_count=0, amount_cents=extra, reason="Refunded in Stripe")
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
