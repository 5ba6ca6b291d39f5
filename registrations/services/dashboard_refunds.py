"""Refunds Stripe reports that the ledger did not make itself: `charge.refunded` events, which carry a charge's running
total refunded, caught up with refunds made in Stripe's dashboard, settling money owed back and seat refunds that were
waiting on Stripe and that staff returned by hand there. Split from refunds.py, whose helpers it uses."""

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from registrations.selectors.ledger import ledger_owner, payment_for_intent
from workshops.templatetags.workshop_tags import usd

from .. import emails
from ..models import Order, Payment, Refund, RefundPart
from ..stripe import client as stripe_client
from .refunds import close_refused_order, record_refund, refund_order_if_all_back, refused_why


def _must_list(payment: Payment) -> bool:
    """Whether an event's total can be misread for this payment: refunds of ours wait on Stripe's answer there, or one
    of its refunds failed (the total may be from before)."""
    return bool(payment.stripe_refund_failed_cents) or payment.refund_parts.filter(
        refund__made_at__isnull=True, tagged=True
    ).exists()


def record_stripe_refund(*, payment_intent_id: str, amount_refunded_cents: int) -> Order | None:
    """A `charge.refunded` event: catch up with refunds made in Stripe's dashboard. Returns the order changed.

    `amount_refunded_cents` is everything refunded from that one charge so far; the highest total reported is kept
    on the payment (events may arrive out of order) and caught up with (`catch_up_with_stripe`). When refunds of ours
    wait on Stripe's answer there, or one of its refunds failed, the event's total cannot say which refund it counts:
    the charge's refunds are listed instead, under the order's lock, so no event handled meanwhile is newer than the
    listing. Refunding everything an order paid refunds the order and frees its seats.
    Raises stripe_client.PaymentProviderError (nothing is recorded; Stripe delivers the event again).
    """
    payment = payment_for_intent(payment_intent_id)
    if payment is None:
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=ledger_owner(payment).pk)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        at_stripe = stripe_client.list_refunds(payment_intent_id) if _must_list(payment) else None
        _keep_highest_total(payment, amount_refunded_cents, at_stripe)
        changed, made = catch_up_with_stripe(order=order, payment=payment, at_stripe=at_stripe)
        if not changed:
            return None
    # A payment that could not stand, returned by hand before the automatic refund got to it (or after Stripe refused
    # it): the buyer is told as when the worker returns it, and the worker's retry then finds nothing to return.
    close_refused_order(order_id=order.pk, why=refused_why(order))
    if payment.status == Payment.Status.ACCEPTED:
        for refund in made:
            emails.send_refund_made(refund_id=refund.pk)
    return order


def _keep_highest_total(payment: Payment, amount_refunded_cents: int, at_stripe) -> None:
    """Keep on the payment the highest total Stripe reported refunded from it (events arrive in any order), or, when
    the charge's refunds were listed under the lock, what they hold now (as new as anything recorded, and lower once
    one failed)."""
    if at_stripe is not None:
        reported = min(sum(r.amount_cents for r in at_stripe), payment.amount_cents)
    else:
        reported = max(min(amount_refunded_cents, payment.amount_cents), payment.stripe_refunded_cents)
    if reported != payment.stripe_refunded_cents:
        Payment.objects.filter(pk=payment.pk).update(stripe_refunded_cents=reported)
        payment.stripe_refunded_cents = reported


def catch_up_with_stripe(
    *, order: Order, payment: Payment, at_stripe: list[stripe_client.StripeRefund] | None = None
) -> tuple[bool, list[Refund]]:
    """Record what Stripe reported refunded from a payment and the ledger cannot explain, inside the caller's
    transaction with the order (the payment's ledger owner) and the payment locked. Returns (anything changed, the
    refunds counted as made here because of what was refunded in Stripe's dashboard: the buyer is told of each; the
    rest of a seat refund partly settled there waits as a seat refund of its own, which the webhook has the worker send).

    Explained: refunds counted as made, and seat refunds staff asked for whose answer from Stripe is not known yet
    and that Stripe holds (they are settled by their own answer, made or refused). Which of our waiting refunds
    Stripe holds is read from `at_stripe`, the charge's refunds listed with the ledger part each was sent for; without
    it (nothing of ours tagged waits there), a waiting seat refund is taken as held. Money owed back that Stripe holds
    as ours is settled as made; what is left was refunded by hand: it settles money owed back that was waiting for
    Stripe (staff returned it in the dashboard) and seat refunds Stripe can no longer make, and the rest is recorded
    as refunded in Stripe's dashboard.
    """
    held = {r.ledger_part for r in at_stripe or () if r.ledger_part is not None}
    parts = list(payment.refund_parts.select_related("refund").order_by("pk"))
    made = sum(p.amount_cents for p in parts if p.refund.made_at is not None)
    waiting = [p for p in parts if p.refund.made_at is None]
    explained = sum(
        p.amount_cents for p in waiting
        if p.refund.kind == Refund.Kind.SEATS and (p.pk in held or (at_stripe is None or not p.tagged))
    )
    extra = max(payment.stripe_refunded_cents, made) - made - explained
    if extra <= 0:  # nothing new; but a seat refund made meanwhile may have brought the last of its money back
        return refund_order_if_all_back(order, held=frozenset(held)), []
    for part in waiting:
        if part.refund.kind != Refund.Kind.SEATS and part.pk in held and extra >= part.amount_cents:
            Refund.objects.filter(pk=part.refund_id, made_at__isnull=True).update(made_at=timezone.now())
            extra -= part.amount_cents  # our return, made: its answer was lost or is on its way
    extra = _settle_pending_returns(order=order, payment=payment, cents=extra)
    unheld = [p for p in waiting if p.refund.kind == Refund.Kind.SEATS and at_stripe is not None and p.tagged
              and p.pk not in held]
    extra, made_here = _settle_overtaken_seat_refunds(order=order, payment=payment, parts=unheld, cents=extra)
    if extra > 0:  # refunded in Stripe's dashboard
        made_here.append(record_refund(order=order, kind=Refund.Kind.STRIPE, seat_count=0, parts=[(payment, extra)],
                                       reason="Refunded in Stripe's dashboard"))
    if not refund_order_if_all_back(order, held=frozenset(held)) and extra > 0 and payment.status == Payment.Status.ACCEPTED:
        order.staff_note = (order.staff_note + f"\nPartial refund of {usd(extra)} made in Stripe's dashboard.").strip()
        order.save()
    return True, made_here


def _settle_pending_returns(*, order: Order, payment: Payment, cents: int) -> int:
    """`cents` newly refunded at Stripe from a payment that has money owed back waiting for Stripe: that money went
    back (our refund was made and its answer lost, or staff returned it by hand), so it is counted as made, once.
    A part returned by hand is recorded as made and the rest stays pending. Returns what is left of `cents`."""
    pending = RefundPart.objects.select_for_update().select_related("refund").filter(
        payment=payment, refund__made_at__isnull=True
    ).exclude(refund__kind=Refund.Kind.SEATS).order_by("pk")
    for part in pending:
        if cents <= 0:
            break
        refund = part.refund
        if cents >= part.amount_cents:
            Refund.objects.filter(pk=refund.pk).update(made_at=timezone.now())
        else:
            RefundPart.objects.filter(pk=part.pk).update(amount_cents=part.amount_cents - cents)
            Refund.objects.filter(pk=refund.pk).update(amount_cents=refund.amount_cents - cents)
            record_refund(order=order, kind=refund.kind, seat_count=0, parts=[(payment, cents)],
                           reason=f"{refund.reason} (part returned in Stripe's dashboard)")
        cents -= part.amount_cents
    return max(cents, 0)


def _settle_overtaken_seat_refunds(
    *, order: Order, payment: Payment, parts: list[RefundPart], cents: int
) -> tuple[int, list[Refund]]:
    """`cents` newly refunded in Stripe's dashboard from a payment whose seat refunds (`parts`) wait on Stripe's answer
    and, by the charge's refunds listed under the lock, were never made there. When what the charge has left no longer
    covers them, Stripe can never make them: staff returned that money by hand, so the dashboard refund settles them
    first (as `_settle_pending_returns` does for returns), and only the rest of it counts as a refund of its own. When
    they still fit beside it, they stay waiting and the worker sends them.

    A seat refund settled in full is made. A part settled in part leaves its refund (at zero cents its retry sends
    nothing, and the refund's other parts keep their idempotency keys): what went back by hand is a refund made, and
    the rest a new seat refund of its own, waiting. Returns (what is left of `cents`, the refunds made here).
    """
    recorded = payment.refund_parts.aggregate(n=Sum("amount_cents"))["n"] or 0  # made and waiting
    made: list[Refund] = []
    if recorded + cents <= payment.amount_cents:
        return cents, made
    for part in sorted(parts, key=lambda p: p.pk):
        take = min(cents, part.amount_cents)
        if take <= 0:
            break
        refund, cents = part.refund, cents - take
        if take == refund.amount_cents:
            refund.made_at = timezone.now()
            Refund.objects.filter(pk=refund.pk, made_at__isnull=True).update(made_at=refund.made_at)
            made.append(refund)
            continue
        RefundPart.objects.filter(pk=part.pk).update(amount_cents=0)
        # Its reason is left as it is: Stripe is sent it with each retry, and a key's retry must send the same request.
        Refund.objects.filter(pk=refund.pk).update(amount_cents=F("amount_cents") - part.amount_cents)
        if not refund.parts.filter(amount_cents__gt=0).exists():
            Refund.objects.filter(pk=refund.pk).update(made_at=timezone.now())  # nothing of it is left to send
        made.append(record_refund(order=order, kind=Refund.Kind.SEATS, seat_count=0, parts=[(payment, take)],
                                  reason=f"{refund.reason} (returned in Stripe's dashboard)".strip()))
        if part.amount_cents > take:  # waiting: seat_refunds.send_seat_refund_rests has the worker send it
            record_refund(order=order, kind=Refund.Kind.SEATS, seat_count=0, pending=True,
                          parts=[(payment, part.amount_cents - take)], reason=f"{refund.reason} (the rest)".strip())
    return cents, made
