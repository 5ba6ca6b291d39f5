"""What happens when a payment lands or does not: paid (and added seats merged), processing, expired, failed, cancelled."""

from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from registrations.selectors.availability import seats_available
from registrations.selectors.codes import voucher_used_up
from workshops.models import Workshop

from .. import emails
from ..models import (
    Order,
    Seat,
    Voucher,
)
from ..stripe import client as stripe_client
from .refunds import refund_duplicate_payment_task, refund_oversold_order


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
                refund_duplicate_payment_task.enqueue(order.pk, payment_intent_id)
            return order
        if payment_intent_id:
            order.stripe_payment_intent_id = payment_intent_id
        if checkout_session_id:
            order.stripe_checkout_session_id = checkout_session_id
        hold_is_live = order.status == Order.Status.PROCESSING or (
            order.status == Order.Status.PENDING and order.hold_expires_at > now
        )
        if not hold_is_live:
            left = seats_available(workshop=workshop, now=now, exclude_order_id=order.pk)
            problem = ""
            if order.active_seat_count > left:
                problem = f"only {left} seat(s) were left"
            elif order.voucher_id:
                voucher = Voucher.objects.select_for_update().get(pk=order.voucher_id)
                if voucher_used_up(voucher=voucher, now=now, exclude_order_id=order.pk):
                    problem = f"code {voucher.code} had been used up meanwhile"
            if problem:
                order.status = Order.Status.NEEDS_REFUND
                order.staff_note = (
                    f"{now:%Y-%m-%d %H:%M} UTC: paid after its seat hold lapsed and {problem}, "
                    "so the payment is being refunded."
                ).strip()
                order.save()
                # Stripe is called from a task after commit; the task row commits with this flag.
                refund_oversold_order.enqueue(order.pk)
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


def mark_processing(*, order: Order, checkout_session_id: str = "") -> Order:
    """Checkout finished with a delayed payment method: keep the seats held until it settles."""
    with transaction.atomic():
        _, order = _lock(order)
        if order.status == Order.Status.PENDING:
            order.status = Order.Status.PROCESSING
            order.stripe_checkout_session_id = checkout_session_id or order.stripe_checkout_session_id
            order.save()
    return order


def close_order(*, order: Order, status: str, checkout_session_id: str | None = None) -> bool:
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
    return close_order(order=order, status=Order.Status.EXPIRED, checkout_session_id=checkout_session_id)


def fail_order(*, order: Order) -> bool:
    """A delayed payment failed: free the seats."""
    return close_order(order=order, status=Order.Status.FAILED)


def cancel_order(*, order: Order) -> bool:
    """The buyer left checkout: release the hold at once and close the Stripe session."""
    changed = close_order(order=order, status=Order.Status.CANCELLED)
    if changed:
        stripe_client.expire_checkout_session(order.stripe_checkout_session_id)
    return changed


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
        refund_oversold_order.enqueue(addition.pk)
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
