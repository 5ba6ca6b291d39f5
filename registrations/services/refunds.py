"""Refunds: seats refunded by staff, refunds made in Stripe's dashboard, and automatic refunds of payments that cannot stand."""

import hashlib
import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from registrations.selectors.ledger import (
    order_payments,
    refund_allocation,
    refund_amount_cents,
    refunded_by_payment,
)
from workshops.templatetags.workshop_tags import usd

from .. import emails
from ..errors import RefundError
from ..models import (
    Order,
    Refund,
    RefundPart,
    Seat,
)
from ..stripe import client as stripe_client

logger = logging.getLogger(__name__)


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
        amount = refund_amount_cents(order=order, seat_count=len(active))
        parts = refund_allocation(order=order, amount_cents=amount)
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
        paid_with = order_payments(order=order)
        payment = next((p for p in paid_with if payment_intent_id and p.payment_intent_id == payment_intent_id), None)
        payment = payment or paid_with[0]
        refunded = refunded_by_payment(order=order, payments=paid_with)
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


def _record_refund(*, order: Order, seat_count: int, amount_cents: int, parts: list, reason: str) -> Refund:
    """A refund and the payments it comes out of (refund_allocation), inside the caller's transaction."""
    refund = Refund.objects.create(order=order, seat_count=seat_count, amount_cents=amount_cents, reason=reason)
    RefundPart.objects.bulk_create(
        RefundPart(refund=refund, payment_id=payment.order_id, amount_cents=cents) for payment, cents in parts
    )
    return refund


def _refund_payments(*, order: Order, parts: list, idempotency_key: str, reason: str) -> tuple[list[str], int]:
    """Send a refund back through the payments it came from (refund_allocation).

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


def _refund_addition(*, order: Order) -> None:
    """Refund an addition whose seats could not join its order (paid too late, or the order was refunded)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.NEEDS_REFUND:
            return
        # Whatever staff already refunded by hand in Stripe's dashboard is recorded; the rest goes back now.
        left = order.total_cents - order.refunded_cents
        parts = refund_allocation(order=order, amount_cents=left)
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


@task()
def refund_oversold_order(order_id: int) -> str:
    refund_oversold(order_id=order_id)
    return "done"


@task()
def refund_duplicate_payment_task(order_id: int, payment_intent_id: str) -> str:
    return refund_duplicate_payment(order_id=order_id, payment_intent_id=payment_intent_id)
