"""What happens when a payment lands or does not: checked and recorded, paid (and added seats merged), processing,
expired, failed, cancelled."""

from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from registrations.selectors.availability import seats_available
from registrations.selectors.codes import voucher_seats_left
from registrations.selectors.ledger import grown_order_price, ledger_owner, order_money
from registrations.selectors.repricing import tier_snapshot
from workshops.models import Workshop

from .. import emails
from ..models import (
    Order,
    Payment,
    Seat,
    Voucher,
)
from ..stripe import client as stripe_client
from .payments import ReceivedPayment, check_payment, flag_for_review, hold_for_review, record_payment
from .refunds import reserve_return, return_payment_task

# An order in one of these has had its payment decided; a further payment for it is a duplicate.
SETTLED = (Order.Status.PAID, Order.Status.NEEDS_REFUND, Order.Status.REFUNDED, Order.Status.MERGED)


def _lock(order: Order) -> tuple[Workshop, Order]:
    # Always workshop first, then order: the same order place_order uses, so no deadlock.
    # (An order never moves to another workshop, so the caller's copy names the right row.)
    workshop = Workshop.objects.select_for_update().get(pk=order.workshop_id)
    order = Order.objects.select_for_update().get(pk=order.pk)
    order.workshop = workshop
    return workshop, order


def _note(order: Order, now: datetime, text: str) -> None:
    order.staff_note = f"{order.staff_note}\n{now:%Y-%m-%d %H:%M} UTC: {text}".strip()


def fulfil_order(*, order: Order, payment: ReceivedPayment | None = None) -> Order:
    """Record a payment once and, if it is the one the order asked for, mark the order paid, confirm its
    seats and send the confirmation once. `payment` is None only for an order with nothing to pay.

    Called from the webhook and from the success page; a repeat changes nothing. A payment that does
    not match what the site asked for is kept for staff review and pays nothing. A second payment for a
    settled order is returned. A payment that arrives after the hold lapsed is accepted only if the seats
    (and the code's seats) are still free under the same locks a new order takes; otherwise it is returned.
    """
    now = timezone.now()
    # No savepoint when nested (the webhook's transaction): any error rolls the whole delivery back anyway.
    with transaction.atomic(savepoint=False):
        workshop, order = _lock(order)
        if payment is not None:
            recorded, problem = check_payment(order=order, payment=payment)
            if recorded:
                return order
            if problem:
                hold_for_review(order=order, payment=payment, problem=problem, now=now)
                return order
        elif order.total_cents:
            raise ValueError(f"{order.reference} has {order.total_cents} cents to pay; fulfil it with its payment.")
        if order.status in SETTLED:
            if payment is not None:
                _refuse(order=order, payment=payment, now=now, why="", note=(
                    f"a second payment ({payment.description}) arrived for this {order.get_status_display().lower()} "
                    "order and is being refunded in full."
                ))
            return order
        problem = _late_problem(workshop=workshop, order=order, now=now)
        if problem:
            order.status = Order.Status.NEEDS_REFUND
            order.save()
            if payment is not None:
                _refuse(order=order, payment=payment, now=now, why="late", note=(
                    f"paid after its seat hold lapsed and {problem}, so the payment is being refunded."
                ))
            return order
        row = record_payment(order=order, payment=payment, status=Payment.Status.ACCEPTED, now=now) if payment else None
        if row is not None and not order.stripe_payment_intent_id:
            order.stripe_payment_intent_id = row.stripe_payment_intent_id  # the first one; never overwritten
        if order.kind == Order.Kind.ADDITION:
            return _merge_addition(addition=order, payment=row, now=now)
        order.status = Order.Status.PAID
        order.paid_at = now
        order.confirmation_sent_at = now
        order.save()
        # Queued in this transaction: the email exists exactly when the payment is recorded.
        emails.send_order_confirmation(order=order)
    return order


def _hold_is_live(order: Order, now: datetime) -> bool:
    return order.status == Order.Status.PROCESSING or (order.status == Order.Status.PENDING and order.hold_expires_at > now)


def _late_problem(*, workshop: Workshop, order: Order, now: datetime) -> str:
    """For an order whose hold lapsed: what stops it taking its seats now ("" if nothing), checked under the
    workshop lock (and the code's row lock) exactly as a new order is."""
    if _hold_is_live(order, now):
        return ""
    left = seats_available(workshop=workshop, now=now, exclude_order_id=order.pk)
    if order.active_seat_count > left:
        return f"only {left} seat(s) were left"
    if order.voucher_id and order.voucher_seat_count:
        voucher = Voucher.objects.select_for_update().get(pk=order.voucher_id)
        code_left = voucher_seats_left(voucher=voucher, now=now, exclude_order_id=order.pk)
        if code_left is not None and code_left < order.voucher_seat_count:
            return f"code {voucher.code} had only {code_left} seat(s) left"
    return ""


def _refuse(*, order: Order, payment: ReceivedPayment, now: datetime, why: str, note: str) -> Payment:
    """Record a payment that cannot stand and return it in full from a task once this transaction commits."""
    row = record_payment(order=order, payment=payment, status=Payment.Status.REFUSED, now=now, note=note)
    _note(order, now, note)
    order.save(update_fields=["staff_note", "updated_at"])
    reserve_return(order=ledger_owner(row), payment=row, up_to_cents=row.amount_cents)  # no refund may take it meanwhile
    return_payment_task.enqueue(row.pk, row.amount_cents, why)
    return row


def mark_processing(*, order: Order, payment: ReceivedPayment) -> Order:
    """Checkout finished with a delayed payment method (a bank debit): keep the seats until it settles.

    Only for a session the site created for the order, for its amount. A debit that starts after the hold
    lapsed takes the seats again only if they (and the code's seats) are free; otherwise the order stays
    unpaid and the payment is returned if it completes.
    """
    now = timezone.now()
    with transaction.atomic():
        workshop, order = _lock(order)
        if order.status != Order.Status.PENDING:
            return order
        _, problem = check_payment(order=order, payment=payment)
        if problem:
            flag_for_review(
                order=order, now=now, key=f"payment_review:processing:{payment.checkout_session_id}",
                note=f"a delayed payment of {payment.description} started for {order.reference} was not accepted: {problem}.",
            )
            return order
        late = _late_problem(workshop=workshop, order=order, now=now)
        if late:
            _note(order, now, f"a bank payment started after the seat hold lapsed and {late}; if it completes it is refunded.")
            order.save(update_fields=["staff_note", "updated_at"])
            return order
        order.status = Order.Status.PROCESSING
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
        if status == Order.Status.CANCELLED:
            emails.send_order_cancelled(order_id=order.pk)
    return True


def expire_order(*, order: Order, checkout_session_id: str | None = None) -> bool:
    """The Checkout Session expired unpaid: free the seats. Returns whether anything changed."""
    return close_order(order=order, status=Order.Status.EXPIRED, checkout_session_id=checkout_session_id)


def fail_order(*, order: Order, checkout_session_id: str | None = None) -> bool:
    """A delayed payment failed: free the seats (only for the order's current session)."""
    return close_order(order=order, status=Order.Status.FAILED, checkout_session_id=checkout_session_id)


def cancel_order(*, order: Order) -> bool:
    """The buyer left checkout: release the hold at once and close the Stripe session."""
    changed = close_order(order=order, status=Order.Status.CANCELLED)
    if changed:
        stripe_client.expire_checkout_session(order.stripe_checkout_session_id)
    return changed


def _merge_addition(*, addition: Order, payment: Payment | None, now: datetime) -> Order:
    """Paid seats join their order in this transaction: the order's seat count, tier and total change, new
    unnamed seats appear, and the addition stops counting on its own.

    Seats priced for a seat count the order no longer has (another addition joined first) are priced again:
    if they now cost less, the difference is returned; if more (never charged on top of what was paid), if the
    grown order's tier would cost less than the order has paid already, or if the order was refunded or closed
    meanwhile, they cannot join and their payment is returned in full. Either way the order pays exactly its tier.
    """
    # Called by fulfil_order with the workshop and the addition locked; the parent is locked last.
    parent = Order.objects.select_related("voucher").select_for_update(of=("self",)).get(pk=addition.parent_id)
    money = order_money(order=parent)
    paid = payment.amount_cents if payment else 0
    problem, price = "", None
    if parent.status != Order.Status.PAID or parent.refunded_seat_count or money.has_refunds:
        problem = f"order {parent.reference} is {parent.get_status_display().lower()} or had money refunded"
    elif addition.priced_for_seat_count not in (None, parent.seat_count):
        price = grown_order_price(
            order=parent, tiers=addition.workshop.tier_list, extra_seats=addition.seat_count, paid_cents=money.net_cents
        )
        if price.difference_cents > paid:
            problem = (
                f"they were priced for {addition.priced_for_seat_count} seats and order {parent.reference} now has "
                f"{parent.seat_count}, so they cost {price.difference_cents} cents now"
            )
        elif price.difference_cents < 0:
            # The grown order's tier costs less than the order has paid already: a price nobody can pay online
            # (place_addition refuses it too), so staff add these seats by hand.
            problem = (
                f"they were priced for {addition.priced_for_seat_count} seats and order {parent.reference} now has "
                f"{parent.seat_count}; at {parent.seat_count + addition.seat_count} seats its tier costs "
                f"{-price.difference_cents} cents less than it has paid, so staff add them by hand"
            )
    if problem:
        return _refuse_addition(addition=addition, payment=payment, now=now, problem=problem)
    excess = paid - price.difference_cents if price else 0
    first = (parent.seats.aggregate(n=Max("position"))["n"] or 0) + 1
    Seat.objects.bulk_create(Seat(order=parent, position=p) for p in range(first, first + addition.seat_count))
    parent.seat_count += addition.seat_count
    if price is not None:
        addition.unit_price_cents, addition.tier_min_seats = price.quote.unit_price_cents, price.quote.tier_min_seats
        addition.total_cents = addition.subtotal_cents = price.difference_cents
        addition.price_tiers = tier_snapshot(addition.workshop.tier_list)  # the tiers it was priced again under
    parent.unit_price_cents = addition.unit_price_cents
    parent.tier_min_seats = addition.tier_min_seats
    parent.subtotal_cents = parent.unit_price_cents * parent.seat_count
    parent.total_cents += addition.total_cents
    # What a code took off the seats it covered, at the price they are at now.
    parent.discount_cents = max(parent.subtotal_cents - parent.total_cents, 0) if parent.voucher_id else 0
    parent.save()
    addition.status = Order.Status.MERGED
    addition.paid_at = now
    if excess > 0:
        _note(addition, now, f"priced again on joining order {parent.reference}; {excess} cents paid over the new price are returned.")
        # Reserved now: seats refunded from this order before Stripe takes the return never take this money.
        reserve_return(order=parent, payment=payment, up_to_cents=excess)
        return_payment_task.enqueue(payment.pk, excess, "")
    addition.save()
    emails.send_seats_added(addition_id=addition.pk, paid_cents=paid)
    return addition


def _refuse_addition(*, addition: Order, payment: Payment | None, now: datetime, problem: str) -> Order:
    addition.status = Order.Status.NEEDS_REFUND
    addition.paid_at = now
    note = f"paid, but the seats could not join: {problem}, so the payment is being refunded."
    _note(addition, now, note)
    addition.save()
    if payment is not None:
        payment.status, payment.note = Payment.Status.REFUSED, note[:500]
        payment.save(update_fields=["status", "note"])
        reserve_return(order=addition, payment=payment, up_to_cents=payment.amount_cents)
        return_payment_task.enqueue(payment.pk, payment.amount_cents, "changed")
    return addition
