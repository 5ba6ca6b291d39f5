"""Refunds, each tied to the payments it comes out of: refunds made in Stripe's dashboard, and payments returned
because they could not stand (duplicates, late payments, seats that could not join). Seats refunded by staff are in
seat_refunds.py, on the helpers here."""

import logging
import secrets

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django_tasks import task

from registrations.selectors.ledger import (
    ledger_owner,
    money_kept,
    order_money,
    parts_returned_by_hand,
    returnable_cents,
)
from workshops.templatetags.workshop_tags import usd

from .. import emails
from ..models import (
    Order,
    Payment,
    Refund,
    RefundPart,
    Seat,
)
from ..outbox import retry_delay
from ..stripe import client as stripe_client
from .payments import flag_for_review, note_when_failed_money_is_back

logger = logging.getLogger(__name__)


def tell_attendees(*, order: Order, seats: list[Seat], refund: Refund | None = None) -> None:
    """Each attendee other than the buyer, that their seat was cancelled and refunded to whoever paid for it (or, by a
    seat `refund` that gave nothing back, cancelled with no money back, and why)."""
    no_money = refund is not None and refund.amount_cents == 0
    for seat in seats:
        if seat.attendee_email and seat.attendee_email.strip().lower() != order.buyer_email.strip().lower():
            emails.send_seat_refunded(seat=seat, order=order, no_money=no_money)


def mark_made(refund: Refund) -> None:
    """Count a pending refund as made, under the lock `charge.refunded` takes on the order, so an event processed at
    the same moment sees it either made or still pending (a return it may settle itself), never both at once (which
    would count the money twice)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=refund.order_id).first()
        if Refund.objects.filter(pk=refund.pk, made_at__isnull=True).update(made_at=timezone.now()):
            refund_order_if_all_back(order)


def refund_order_if_all_back(order: Order, *, held: frozenset[int] = frozenset()) -> bool:
    """A paid order whose money is all back, or owed back (`money_kept`), is refunded: its seats cancelled and their
    attendees told; if a refund of it had failed, staff read that nothing more is owed. Inside the caller's
    transaction, on the order row it has locked. Returns whether it was refunded here."""
    money = order_money(order=order)
    kept = money_kept(order=order, money=money, held=held)
    note_when_failed_money_is_back(order, money=money, kept=kept)
    if order.status != Order.Status.PAID or not money.paid_cents or kept > 0:
        return False
    order.status = Order.Status.REFUNDED
    order.refunded_seat_count = order.seat_count
    active = list(order.seats.filter(status=Seat.Status.ACTIVE))
    order.seats.update(status=Seat.Status.REFUNDED)
    tell_attendees(order=order, seats=active)  # queued in this transaction, so only if it commits
    order.save()
    return True


def record_refund(*, order: Order, kind: str, seat_count: int, parts: list, reason: str, pending: bool = False) -> Refund:
    """A refund and the payments it comes out of, inside the caller's transaction; `pending` for money owed back that
    Stripe has not taken yet (reserved, not yet counted as refunded)."""
    refund = Refund.objects.create(
        order=order, kind=kind, seat_count=seat_count, amount_cents=sum(cents for _, cents in parts), reason=reason[:200],
        made_at=None if pending else timezone.now(),
    )
    RefundPart.objects.bulk_create(RefundPart(refund=refund, payment=payment, amount_cents=cents) for payment, cents in parts)
    return refund


def _refund_one(*, part: RefundPart, idempotency_key: str, reason: str) -> stripe_client.RefundCreated | None:
    """Return one part of a refund to the payment it came out of; None when it was paid outside Stripe (a cheque).

    A local test payment gets a local refund id; a payment taken through Stripe never does, so without a
    Stripe key it cannot be refunded here. Raises stripe_client.PaymentProviderError.
    """
    payment = part.payment
    if payment.is_local:
        return stripe_client.RefundCreated(f"re_local_{secrets.token_hex(8)}")
    if payment.source == Payment.Source.OUT_OF_BAND:
        return None
    if stripe_client.is_test_payment_mode():
        raise stripe_client.PaymentProviderError(
            f"Payment {payment.reference} was taken through Stripe, and no Stripe key is configured to refund it."
        )
    intent = payment.stripe_payment_intent_id
    if not intent and payment.stripe_invoice_id:
        intent = stripe_client.invoice_payment_intent_id(payment.stripe_invoice_id)
        if not intent:
            return None
        # Stored only where none was: a provider id, once recorded, is never overwritten.
        Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id="").update(stripe_payment_intent_id=intent)
    return stripe_client.create_refund(
        payment_intent_id=intent, amount_cents=part.amount_cents, idempotency_key=idempotency_key, reason_note=reason,
        ledger_part=part.pk if part.tagged else None,
    )


def send_refund(*, refund: Refund, idempotency_key: str) -> bool:
    """Send each part of a recorded refund back through its payment and store Stripe's refund ids; what was paid
    outside Stripe (a cheque) is noted on the refund's reason (`flag_return_by_hand` tells staff). Returns whether
    this sending did anything new: False when Stripe answered every part with the refund an earlier request with the
    same key made (another request sent it first, or its answer was lost).

    Raises stripe_client.PaymentProviderError (parts already sent keep their ids; a retry with the same
    keys gets the same refunds back from Stripe rather than new ones).
    """
    outside, ids, new = 0, [], False
    parts = list(refund.parts.select_related("payment").order_by("pk"))
    for number, part in enumerate(parts):
        if part.amount_cents == 0:
            continue  # a part Stripe made and could not complete (refund.failed): nothing is sent again
        key = idempotency_key if number == 0 else f"{idempotency_key}-{part.payment_id}"
        made = _refund_one(part=part, idempotency_key=key, reason=refund.reason)
        new = new or made is None or not made.replayed
        if made:
            RefundPart.objects.filter(pk=part.pk).update(stripe_refund_id=made.id)
            ids.append(made.id)
        else:
            outside += part.amount_cents
    refund.stripe_refund_id = ", ".join(ids)[:255]
    if outside:
        refund.reason = (f"{refund.reason} " if refund.reason else "") + (
            f"({usd(outside)} was paid outside Stripe, e.g. by cheque: return it the same way.)"
        )[:200]
    refund.save(update_fields=["stripe_refund_id", "reason"])
    return new


def flag_return_by_hand(*, refund: Refund, order: Order | None = None) -> None:
    """A sent refund's money that was paid outside Stripe (`parts_returned_by_hand`): no refund API returns a cheque,
    so nobody has acted yet, and its order (`order`, else the refund's) is flagged for staff to send it back the same
    way."""
    for part in parts_returned_by_hand(refund):
        flag_for_review(
            order=order or refund.order, key=f"payment_review:return_by_hand:{refund.pk}:{part.payment_id}",
            note=f"{usd(part.amount_cents)} of payment {part.payment.reference or part.payment_id} is owed back to the "
            "buyer and was paid outside Stripe (a cheque or transfer): return it the same way. The ledger counts it "
            "as refunded.",
        )


def reserve_return(*, order: Order, payment: Payment, up_to_cents: int) -> Refund | None:
    """Record money owed back from a payment (until `up_to_cents` of it has been returned) as a pending return,
    inside the caller's transaction with `order` (the payment's ledger owner) locked; `return_payment` sends it.

    From this moment it is reserved: seat refunds take only what is left of the payment beside it, so a return
    Stripe refuses for a while is still returned in full by the retries. Not counted as refunded until Stripe
    takes it. Returns None when nothing is owed back.
    """
    amount = returnable_cents(payment=payment, up_to_cents=up_to_cents)
    if amount <= 0:
        return None
    return record_refund(
        order=order, kind=Refund.Kind.RETURNED, seat_count=0, parts=[(payment, amount)],
        reason=(payment.note or "Payment returned")[:200], pending=True,
    )


def return_payment(*, payment_id: int, up_to_cents: int, why: str = "") -> Refund | None:
    """Give back a payment, or the part of it that was not owed, until `up_to_cents` of it has been returned.

    For payments that could not stand (a duplicate, a payment after the seats were gone, seats that could not
    join) and money paid over a price. Sends the return reserved when the money became owed (or reserves it now),
    so its `charge.refunded` event finds it; if Stripe refuses, it stays reserved and pending, the order keeps
    its "refund due" status, and a retry sends the same refund with the same idempotency key.
    When an order's refused payments are all returned it becomes refunded and the buyer is emailed (`why`
    chooses the wording; "" sends nothing).
    Raises stripe_client.PaymentProviderError.
    """
    return _return_payment(payment_id=payment_id, up_to_cents=up_to_cents, why=why)[0]


def _return_payment(*, payment_id: int, up_to_cents: int, why: str = "") -> tuple[Refund | None, bool]:
    """`return_payment`, and whether the payment had already been returned by another request: nothing was owed back
    any more, or Stripe answered with the refund an earlier request with the same key made (that request's answer,
    which may still be on its way, is the one that returned it). Raises stripe_client.PaymentProviderError."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("order").get(pk=payment_id)
        order = Order.objects.select_for_update().get(pk=ledger_owner(payment).pk)
        refund = Refund.objects.filter(parts__payment=payment, made_at__isnull=True).order_by("pk").first()
        if refund is None and payment.stripe_refund_failed_cents:
            return None, False  # a refund of it failed at Stripe: staff were told to pay the buyer another way
        refund = refund or reserve_return(order=order, payment=payment, up_to_cents=up_to_cents)
        if refund is None:
            return None, True
        # What was returned before this one (not counting it): the key is the same on every retry of it.
        returned = payment.refund_parts.filter(refund__made_at__isnull=False).exclude(refund__kind=Refund.Kind.SEATS)
        key = f"return-{payment.pk}-{returned.aggregate(n=Sum('amount_cents'))['n'] or 0}"
    sent_anew = send_refund(refund=refund, idempotency_key=key)
    mark_made(refund)
    refund.refresh_from_db()
    flag_return_by_hand(refund=refund, order=ledger_owner(payment))
    close_refused_order(order_id=payment.order_id, why=why)
    return refund, not sent_anew


def _pending_return_cents(payment: Payment) -> int:
    """Money owed back from a payment that Stripe has not taken yet."""
    return payment.refund_parts.filter(refund__made_at__isnull=True).aggregate(n=Sum("amount_cents"))["n"] or 0


def close_refused_order(*, order_id: int, why: str) -> None:
    """An order whose payment could not stand becomes refunded once all its money is back; the buyer is told.

    A payment under review (a Payment Link naming the order) is not part of it: it is not returned automatically,
    the order stays flagged for staff, and it must not keep the order "refund due" for ever."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != Order.Status.NEEDS_REFUND:
            return
        made = Q(refund_parts__refund__made_at__isnull=False)
        payments = list(
            Payment.objects.filter(order=order).exclude(status=Payment.Status.REVIEW)
            .annotate(back=Sum("refund_parts__amount_cents", filter=made))
        )
        if any(p.amount_cents > (p.back or 0) for p in payments):
            return
        order.status = Order.Status.REFUNDED
        order.refunded_seat_count = order.seat_count
        order.seats.update(status=Seat.Status.REFUNDED)
        order.closed_at = timezone.now()
        order.save()
        if why:
            emails.send_oversold_refund_notice(
                order_id=order.pk,
                amount_cents=sum(p.amount_cents for p in payments),
                why=why,
                paid_outside_stripe=any(p.source == Payment.Source.OUT_OF_BAND for p in payments),
            )


def refused_why(order: Order) -> str:
    """Why an order's payment could not stand, for the buyer's email: "late" (its hold lapsed and the seats or code
    were gone), or "changed" (seats added to an order that changed before they were paid)."""
    return "late" if order.kind == Order.Kind.PURCHASE else "changed"


def return_refused_payments(*, order: Order) -> tuple[int, int]:
    """Staff retry: return every payment of this order that was not accepted and is not fully back yet.

    Returns how many were returned here, and how many had already been returned by another request (another staff
    member's press, the worker's retry, an earlier press whose answer was lost, or one still waiting on Stripe's
    answer with the same key): nothing new was sent for those. Raises stripe_client.PaymentProviderError.
    """
    returned = already = 0
    why = refused_why(order)
    for payment in Payment.objects.filter(order=order, status=Payment.Status.REFUSED).order_by("pk"):
        try:
            refund, done_before = _return_payment(payment_id=payment.pk, up_to_cents=payment.amount_cents, why=why)
        except stripe_client.PaymentProviderError as exc:
            if not exc.in_progress:
                raise
            refund, done_before = None, True  # another request with the same key is being answered: it returns it
        returned += refund is not None and not done_before
        already += done_before
    return returned, already


# An automatic return Stripe cannot take is tried again this many times (1, 2, 4 … minutes apart, at most an hour).
RETURN_ATTEMPTS = 12


@task()
def return_payment_task(payment_id: int, up_to_cents: int, why: str = "", attempt: int = 1) -> str:
    try:
        refund = return_payment(payment_id=payment_id, up_to_cents=up_to_cents, why=why)
    except stripe_client.PaymentProviderError as exc:
        logger.exception("Returning payment %s failed (attempt %s).", payment_id, attempt)
        again = attempt < RETURN_ATTEMPTS
        if attempt == 1 or not again:
            _tell_staff_a_return_failed(payment_id=payment_id, error=str(exc), again=again)
        if not again:
            return "failed"
        return_payment_task.using(run_after=timezone.now() + retry_delay(attempt)).enqueue(
            payment_id, up_to_cents, why, attempt + 1
        )
        return "retry scheduled"
    return "nothing to return" if refund is None else f"returned {refund.amount_cents}"


def _tell_staff_a_return_failed(*, payment_id: int, error: str, again: bool) -> None:
    """Money the site owes back could not be returned: flag the order it belongs to and email staff (once per payment,
    and once more if the retries give up), so it is never silently kept."""
    with transaction.atomic():
        payment = Payment.objects.select_related("order__parent").get(pk=payment_id)
        order = Order.objects.select_for_update().get(pk=ledger_owner(payment).pk)
        owed = _pending_return_cents(payment)
        if owed <= 0:
            return
        then = "It is tried again automatically; or" if again else "Automatic retries have stopped:"
        flag_for_review(
            order=order,
            key=f"payment_review:return:{payment_id}:{'retrying' if again else 'stopped'}",
            note=f"{usd(owed)} of payment {payment.reference or payment.pk} is owed back to the buyer and Stripe did not "
            f"take the refund ({error[:200]}). {then} refund it in Stripe's dashboard (the ledger records that refund).",
        )


# Task paths rows queued before the ledger still name; they do the same work through it.
@task()
def refund_oversold_order(order_id: int) -> str:
    order = Order.objects.get(pk=order_id)
    try:
        return "returned {} (already {})".format(*return_refused_payments(order=order))
    except stripe_client.PaymentProviderError:
        logger.exception("Returning the payment of %s failed; it keeps 'refund due' for staff.", order.reference)
        return "failed"


@task()
def refund_duplicate_payment_task(order_id: int, payment_intent_id: str) -> str:
    """Queued before duplicates were recorded with their amount: leave it to staff, who can see it in Stripe."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        flag_for_review(
            order=order, key=f"payment_review:duplicate:{payment_intent_id}"[:200],
            note=f"a second payment {payment_intent_id} arrived before the payment ledger existed; refund it in Stripe's dashboard.",
        )
    return "left for staff"
