"""Seats refunded by staff: recorded as pending before Stripe is asked, counted as made once Stripe (or its
`charge.refunded` event) says the money went back, undone only when Stripe refused outright, and finished by the
worker when Stripe's answer was lost."""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from registrations.selectors.ledger import order_money, refund_allocation, refund_amount_cents
from workshops.templatetags.workshop_tags import usd

from .. import emails
from ..errors import RefundError
from ..models import Order, Refund, Seat
from ..outbox import retry_delay
from ..stripe import client as stripe_client
from .payments import flag_for_review
from .refunds import RETURN_ATTEMPTS, mark_made, record_refund, send_refund, tell_attendees

logger = logging.getLogger(__name__)


class RefundPendingError(Exception):
    """Stripe did not say whether it made a seat refund: the seats are cancelled and the refund is kept pending
    (reserved, not counted as refunded); the worker sends it again with the same idempotency key until Stripe
    answers, and the buyer is emailed once it is made."""

    def __init__(self, refund: Refund, error: str):
        super().__init__(error)
        self.refund = refund


def refund_pending_message(order: Order, exc: RefundPendingError) -> str:
    """What staff read when Stripe's answer to their refund was lost."""
    return (
        f"{order.reference}: Stripe did not confirm the refund of {usd(exc.refund.amount_cents)} ({exc}). The seats are "
        "cancelled and the refund is sent again automatically, as the same request, so Stripe makes it once; the buyer "
        "is emailed when it is made. Do not refund it again here or in Stripe's dashboard."
    )


def refund_seats(*, order: Order, seats: list[Seat], reason: str = "") -> Refund:
    """Refund some or all seats of a paid order through the payments it was paid with, at each seat's share.

    The seats stop counting against capacity at once, and the refund is recorded as pending before Stripe is asked,
    so a `charge.refunded` event that arrives meanwhile finds it rather than counting the money as a refund made in
    Stripe's dashboard. Stripe refuses outright: nothing changes. Stripe's answer is lost (timeout, its own error):
    RefundPendingError, and the worker finishes it.
    Raises RefundError, RefundPendingError, stripe_client.PaymentProviderError.
    """
    if not seats:
        raise RefundError("Choose at least one seat to refund.")
    seat_ids = sorted(seat.pk for seat in seats)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PAID:
            raise RefundError(f"Order {order.reference} is {order.get_status_display().lower()}, not paid.")
        active = list(order.seats.filter(pk__in=seat_ids, status=Seat.Status.ACTIVE))
        if len(active) != len(seat_ids):
            raise RefundError("Some of these seats are not active seats of this order.")
        money = order_money(order=order)
        amount = refund_amount_cents(order=order, seat_count=len(active), money=money)
        parts = refund_allocation(money=money, amount_cents=amount)
        order.seats.filter(pk__in=seat_ids).update(status=Seat.Status.REFUNDED, updated_at=timezone.now())
        order.refunded_seat_count += len(active)
        if order.refunded_seat_count >= order.seat_count:
            order.status = Order.Status.REFUNDED
        order.save()
        refund = record_refund(
            order=order, kind=Refund.Kind.SEATS, seat_count=len(active), parts=parts, reason=reason, pending=True
        )
    try:
        _send_seat_refund(refund)
    except stripe_client.PaymentProviderError as exc:
        if not _is_made(refund):  # else a charge.refunded event counted it while Stripe's answer was on its way
            if exc.outcome_unknown or refund.parts.exclude(stripe_refund_id="").exists():
                tell_attendees(order=order, seats=active)  # their seats are cancelled whatever Stripe answers
                send_seat_refund_task.using(run_after=timezone.now() + retry_delay(1)).enqueue(refund.pk)
                raise RefundPendingError(refund, str(exc)) from exc
            if _undo_seat_refund(refund=refund, seat_ids=seat_ids):
                raise
    tell_attendees(order=order, seats=active)  # the buyer is told by the caller, with the money
    refund.refresh_from_db()
    return refund


def _seat_refund_key(refund: Refund) -> str:
    """One idempotency key per seat refund, the same on every retry of it: a retry whose first answer was lost gets
    the same refund back from Stripe; a new refund of the same seats (after Stripe refused one) is a new request."""
    return f"refund-{refund.order.reference}-{refund.pk}"


def _send_seat_refund(refund: Refund) -> None:
    """Send a pending seat refund to Stripe and count it as made. Raises stripe_client.PaymentProviderError."""
    send_refund(refund=refund, idempotency_key=_seat_refund_key(refund))
    mark_made(refund)


def _is_made(refund: Refund) -> bool:
    return Refund.objects.filter(pk=refund.pk, made_at__isnull=False).exists()


def _undo_seat_refund(*, refund: Refund, seat_ids: list[int]) -> bool:
    """Stripe refused a seat refund and made none of it: the seats are active again and the record goes. False when
    a `charge.refunded` event counted it as made meanwhile (the money is back, refunded in Stripe's dashboard)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        if not Refund.objects.filter(pk=refund.pk, made_at__isnull=True).exists():
            return False
        order.seats.filter(pk__in=seat_ids, status=Seat.Status.REFUNDED).update(status=Seat.Status.ACTIVE)
        order.refunded_seat_count -= refund.seat_count
        if order.status == Order.Status.REFUNDED and order.refunded_seat_count < order.seat_count:
            order.status = Order.Status.PAID
        order.save()
        refund.delete()
    return True


@task()
def send_seat_refund_task(refund_id: int, attempt: int = 1) -> str:
    """Finish a seat refund whose answer from Stripe was lost: send it again with the same key until Stripe answers
    (a `charge.refunded` event may count it first), then email the buyer. Staff are told if it keeps failing."""
    refund = Refund.objects.select_related("order").get(pk=refund_id)
    if refund.made_at is None:
        try:
            _send_seat_refund(refund)
        except stripe_client.PaymentProviderError as exc:
            logger.exception("Sending seat refund %s failed (attempt %s).", refund_id, attempt)
            again = attempt < RETURN_ATTEMPTS
            if attempt == 1 or not again:
                _tell_staff_a_seat_refund_waits(refund=refund, error=str(exc), again=again)
            if not again:
                return "failed"
            send_seat_refund_task.using(run_after=timezone.now() + retry_delay(attempt + 1)).enqueue(refund_id, attempt + 1)
            return "retry scheduled"
    emails.send_refund_made(refund_id=refund.pk)
    return "made"


def _tell_staff_a_seat_refund_waits(*, refund: Refund, error: str, again: bool) -> None:
    then = (
        "It is sent again automatically (the same request, so Stripe makes it once)."
        if again else "Automatic retries have stopped: refund it in Stripe's dashboard, and the ledger records it."
    )
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        flag_for_review(
            order=order, key=f"payment_review:seat_refund:{refund.pk}:{'retrying' if again else 'stopped'}",
            note=f"A refund of {usd(refund.amount_cents)} for {refund.seat_count} seat(s) is recorded but Stripe has not "
            f"confirmed it ({error[:200]}). The seats are cancelled. {then}",
        )
