"""Seats refunded by staff: recorded as pending before Stripe is asked, counted as made once Stripe's answer says
the money went back (never by a `charge.refunded` event, whose total cannot say which refund it counts), undone only
when Stripe refused outright, and finished by the worker when Stripe's answer was lost."""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from registrations.selectors.availability import seats_taken
from registrations.selectors.codes import voucher_seats_left
from registrations.selectors.ledger import money_kept, order_money, refund_allocation
from registrations.selectors.repricing import seat_refund_price
from workshops.models import Workshop
from workshops.templatetags.workshop_tags import usd

from .. import emails
from ..errors import RefundChangedError, RefundError
from ..models import Order, Payment, Refund, Seat
from ..outbox import retry_delay
from ..stripe import client as stripe_client
from .dashboard_refunds import catch_up_with_stripe
from .payments import flag_for_review
from .refunds import (
    RETURN_ATTEMPTS,
    flag_return_by_hand,
    mark_made,
    record_refund,
    refund_order_if_all_back,
    send_refund,
    tell_attendees,
)

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


def refund_seats(*, order: Order, seats: list[Seat], reason: str = "", expected_cents: int | None = None) -> Refund:
    """Refund some or all seats of a paid order through the payments it was paid with: what the order kept less what
    the seats it keeps cost under its prices (`seat_refund_price`). When that is nothing, the seats are cancelled
    without asking Stripe.

    The seats stop counting against capacity at once, and the refund is recorded as pending before Stripe is asked:
    a `charge.refunded` event that arrives meanwhile leaves that money to the refund's own answer rather than counting
    it as a refund made in Stripe's dashboard. Stripe refuses outright: nothing changes. Stripe's answer is lost
    (timeout, its own error): RefundPendingError, and the worker finishes it.
    `expected_cents`: the whole order as a confirmation page showed it; refunded only if, under the order's lock, these
    seats are still all its active seats and refund exactly that, else RefundChangedError and nothing changes.
    Money paid outside Stripe (a cheque) is not sent to Stripe: the order is flagged for staff to return it by hand.
    Raises RefundError, RefundChangedError, RefundPendingError, stripe_client.PaymentProviderError.
    """
    if not seats:
        raise RefundError("Choose at least one seat to refund.")
    seat_ids = sorted(seat.pk for seat in seats)
    shown = expected_cents is not None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        changed = RefundChangedError(f"Order {order.reference} changed since its refund was shown.")
        if order.status != Order.Status.PAID:
            raise changed if shown else RefundError(f"Order {order.reference} is {order.get_status_display().lower()}, not paid.")
        active = list(order.seats.filter(pk__in=seat_ids, status=Seat.Status.ACTIVE))
        if len(active) != len(seat_ids):
            raise changed if shown else RefundError("Some of these seats are not active seats of this order.")
        money = order_money(order=order)
        price = seat_refund_price(order=order, seat_count=len(active), money=money)
        if shown and (price.amount_cents != expected_cents
                      or order.seats.filter(status=Seat.Status.ACTIVE).count() != len(active)):
            raise changed
        parts = refund_allocation(money=money, amount_cents=price.amount_cents)
        order.seats.filter(pk__in=seat_ids).update(status=Seat.Status.REFUNDED, updated_at=timezone.now())
        order.refunded_seat_count += len(active)
        if order.refunded_seat_count >= order.seat_count:
            order.status = Order.Status.REFUNDED
        order.save()
        refund = record_refund(
            order=order, kind=Refund.Kind.SEATS, seat_count=len(active), parts=parts, reason=reason, pending=bool(parts)
        )
        Refund.objects.filter(pk=refund.pk).update(withheld_cents=price.withheld_cents, pricing_note=price.explanation[:300])
        refund.seats.set(active)
    if not parts:  # nothing comes back (the seats kept cost what the order kept): cancelled, and Stripe is not asked
        tell_attendees(order=order, seats=active, refund=refund)
        refund.refresh_from_db()
        return refund
    try:
        _send_seat_refund(refund)
    except stripe_client.PaymentProviderError as exc:
        if exc.outcome_unknown:
            tell_attendees(order=order, seats=active)  # their seats are cancelled whatever Stripe answers
            send_seat_refund_task.using(run_after=timezone.now() + retry_delay(1)).enqueue(refund.pk)
            raise RefundPendingError(refund, str(exc)) from exc
        outcome = _after_refusal(refund, str(exc))
        if outcome == "gone":  # another staff request (or the worker) got the same refusal and settled it first
            outcome = "restored" if len(seat_ids) == Seat.objects.filter(pk__in=seat_ids, status=Seat.Status.ACTIVE).count() else "handled"
        if outcome == "restored":
            raise
        if outcome != "made":
            tell_attendees(order=order, seats=active)  # their seats stay cancelled
            raise RefundError(f"Stripe refused the refund ({exc}){_STAY_CANCELLED[outcome](refund)}") from exc
    tell_attendees(order=order, seats=active, refund=refund)  # the buyer is told by the caller, with the money
    refund.refresh_from_db()
    return refund


# What staff read when Stripe refused a seat refund and its seats stay cancelled, by why they stay cancelled.
_STAY_CANCELLED = {
    "handled": lambda refund: ", and another request settled it meanwhile: the seats stay cancelled. The order's "
    "review note says what the buyer is owed.",
    "refunded meanwhile": lambda refund: ": the whole order was refunded in Stripe's dashboard meanwhile, so its seats "
    "stay cancelled and nothing more is owed.",
    "seats gone": lambda refund: ". Its seats (or its code's seats) were taken by other buyers meanwhile, so they stay "
    "cancelled; the order "
    f"is flagged: the buyer is owed {usd(refund.amount_cents)}.",
}


def _seat_refund_key(refund: Refund) -> str:
    """One idempotency key per seat refund, the same on every retry of it: a retry whose first answer was lost gets
    the same refund back from Stripe; a new refund of the same seats (after Stripe refused one), or the rest of one
    that staff partly returned by hand in Stripe's dashboard meanwhile, is a new request (a refund of its own)."""
    return f"refund-{refund.order.reference}-{refund.pk}"


def _send_seat_refund(refund: Refund) -> None:
    """Send a pending seat refund to Stripe and count it as made; what was paid outside Stripe is flagged for staff to
    return by hand. Raises stripe_client.PaymentProviderError."""
    send_refund(refund=refund, idempotency_key=_seat_refund_key(refund))
    mark_made(refund)
    flag_return_by_hand(refund=refund)


def _after_refusal(refund: Refund, error: str) -> str:
    """Stripe refused (part of) a pending seat refund outright. Returns "made" (counted meanwhile, or the parts Stripe
    made before it refused the rest, which are kept: the rest is owed to the buyer and staff are told), "restored"
    (nothing made: the seats are active again), "gone" (another request got the same refusal first and settled it),
    "refunded meanwhile" (nothing made, and the whole order was refunded in
    Stripe's dashboard while it waited: its seats stay cancelled, nothing is owed) or "seats gone" (nothing made, and
    the seats were taken by other buyers while it waited: they stay cancelled and staff are told the buyer is owed the
    money)."""
    stripe_refunds = []
    with transaction.atomic():
        order = Order.objects.get(pk=refund.order_id)
        workshop = Workshop.objects.select_for_update().get(pk=order.workshop_id)  # as checkout locks, first
        order = Order.objects.select_for_update().get(pk=order.pk)
        now = Refund.objects.filter(pk=refund.pk).values("made_at").first()
        if now is None:
            return "gone"  # another request got the same refusal first, and undid or settled it
        if now["made_at"] is not None:
            return "made"
        parts = list(refund.parts.all())
        sent = [part for part in parts if part.stripe_refund_id]
        payment_ids = sorted({part.payment_id for part in parts if not part.stripe_refund_id})
        kept = sum(part.amount_cents for part in sent)
        if sent:
            outcome, note = "made", ""  # the note, once what was refunded by hand meanwhile is caught up with
            refund.parts.filter(stripe_refund_id="").delete()
            Refund.objects.filter(pk=refund.pk).update(amount_cents=kept, made_at=timezone.now())
        elif _refunded_meanwhile(order, refund):
            outcome, note = "refunded meanwhile", ""  # the whole order went back by hand: its seats stay cancelled
            refund.delete()
        elif seats_taken(workshop_id=workshop.pk) + refund.seat_count > workshop.capacity or _code_taken_meanwhile(order):
            outcome = "seats gone"
            refund.delete()
            note = (f"Stripe refused the refund of {usd(refund.amount_cents)} for {refund.seat_count} seat(s) "
                    f"({error[:200]}), and other buyers took those seats while it waited, so they stay cancelled: the "
                    "buyer is owed that money. Refund it in Stripe's dashboard (the ledger records it).")
        else:
            outcome, note = "restored", ""
            refund.seats.filter(status=Seat.Status.REFUNDED).update(status=Seat.Status.ACTIVE)
            order.refunded_seat_count -= refund.seat_count
            if order.status == Order.Status.REFUNDED and order.refunded_seat_count < order.seat_count:
                order.status = Order.Status.PAID
            order.save()
            refund.delete()
        for payment in Payment.objects.select_for_update().filter(pk__in=payment_ids).order_by("pk"):
            _, made_there = catch_up_with_stripe(order=order, payment=payment)
            if payment.status == Payment.Status.ACCEPTED:
                stripe_refunds += [made.pk for made in made_there]
        owed = min(refund.amount_cents - kept, max(money_kept(order=order), 0))
        if outcome == "made" and owed > 0 and not refund_order_if_all_back(order):
            note = (f"Stripe made {usd(kept)} of a refund of {usd(refund.amount_cents)} for {refund.seat_count} seat(s) "
                    f"and refused the rest ({error[:200]}). The seats are cancelled; the buyer is owed {usd(owed)}: "
                    "refund it in Stripe's dashboard (the ledger records it).")
        if note:
            flag_for_review(order=order, key=f"payment_review:seat_refund:{refund.pk}:{outcome}", note=note)
    for refund_id in stripe_refunds:
        emails.send_refund_made(refund_id=refund_id)
    return outcome


def _code_taken_meanwhile(order: Order) -> bool:
    """The order was refunded whole by the seat refund that waited, so its code's seats were free for others; restoring
    it now would use more of the code than it covers if other buyers took them meanwhile."""
    if order.status != Order.Status.REFUNDED or not order.voucher_id or not order.voucher_seat_count:
        return False
    left = voucher_seats_left(voucher=order.voucher, exclude_order_id=order.pk)
    return left is not None and left < order.voucher_seat_count


def _refunded_meanwhile(order: Order, refund: Refund) -> bool:
    """The order was refunded in full in Stripe's dashboard while this seat refund waited: all it kept is back, or
    owed back, without counting this refund (which still waits, so `money_kept` counts it as kept)."""
    if order.status != Order.Status.REFUNDED:
        return False
    money = order_money(order=order)
    return bool(money.paid_cents) and money_kept(order=order, money=money) <= 0


def send_seat_refund_rests(*, order: Order) -> int:
    """After a `charge.refunded` event: the rest of a seat refund that a refund in Stripe's dashboard settled in part
    waits as a seat refund of its own, for no seats (dashboard_refunds.py records it); the worker sends each such one
    now, as the same request on every try. Returns how many were queued. A second event queues it again: each try is
    the same request, so Stripe makes it once, and a try that finds it made does nothing."""
    rests = list(Refund.objects.filter(order=order, kind=Refund.Kind.SEATS, seat_count=0, made_at__isnull=True)
                 .values_list("pk", flat=True))
    for refund_id in rests:
        send_seat_refund_task.using(run_after=timezone.now()).enqueue(refund_id)
    return len(rests)


def resend_pending_seat_refunds(*, order: Order) -> tuple[int, int]:
    """Staff: send this order's seat refunds still waiting on Stripe again, now (the same requests). Returns (made, still
    waiting). Raises nothing: what Stripe refuses outright is undone, what it leaves unanswered stays pending."""
    made = waiting = 0
    for refund in Refund.objects.filter(order=order, kind=Refund.Kind.SEATS, made_at__isnull=True).order_by("pk"):
        outcome = _try_pending_refund(refund)
        made += outcome == "made"
        waiting += outcome == "pending"
    return made, waiting


def _try_pending_refund(refund: Refund) -> str:
    """One more try of a pending seat refund: "made" (buyer emailed), "refused" (undone, staff told) or "pending"."""
    try:
        _send_seat_refund(refund)
    except stripe_client.PaymentProviderError as exc:
        if exc.outcome_unknown:
            return "pending"
        outcome = _after_refusal(refund, str(exc))
        if outcome == "restored":
            _flag(refund, "refused", f"Stripe refused the refund of {usd(refund.amount_cents)} for {refund.seat_count} "
                  f"seat(s) that was waiting on its answer ({str(exc)[:200]}). Nothing was refunded: the seats are active again.")
        if outcome != "made":
            return "refused"
    emails.send_refund_made(refund_id=refund.pk)
    return "made"


@task()
def send_seat_refund_task(refund_id: int, attempt: int = 1) -> str:
    """Finish a seat refund whose answer from Stripe was lost: send it again with the same key until Stripe answers,
    then email the buyer; undo it if Stripe refuses it outright. Staff are told if it keeps failing."""
    refund = Refund.objects.select_related("order").filter(pk=refund_id, made_at__isnull=True).first()
    if refund is None:
        return "nothing waiting"
    outcome = _try_pending_refund(refund)
    if outcome != "pending":
        return outcome
    logger.warning("Seat refund %s still waits on Stripe (attempt %s).", refund_id, attempt)
    again = attempt < RETURN_ATTEMPTS
    if attempt == 1 or not again:
        _tell_staff_a_seat_refund_waits(refund=refund, again=again)
    if again:
        send_seat_refund_task.using(run_after=timezone.now() + retry_delay(attempt + 1)).enqueue(refund_id, attempt + 1)
    return "retry scheduled" if again else "stopped"


def _tell_staff_a_seat_refund_waits(*, refund: Refund, again: bool) -> None:
    then = (
        "It is sent again automatically (the same request, so Stripe makes it once)."
        if again else "Automatic retries have stopped: once Stripe answers again, tick the order in the Orders list and choose \"Send "
        "pending seat refunds again\". Do not refund it by hand in Stripe's dashboard: if the first request went "
        "through, Stripe would refund twice."
    )
    _flag(refund, "retrying" if again else "stopped", f"A refund of {usd(refund.amount_cents)} for {refund.seat_count} "
          f"seat(s) is recorded but Stripe has not confirmed it. The seats are cancelled. {then}")


def _flag(refund: Refund, state: str, note: str) -> None:
    """Flag the refund's order for staff (emailed once per refund and state)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        flag_for_review(order=order, key=f"payment_review:seat_refund:{refund.pk}:{state}", note=note)
