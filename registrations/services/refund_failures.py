"""A refund Stripe accepted and could not complete later (`refund.failed`: the card was closed or reported lost, the
bank refused it): its money came back to the Stripe balance and the buyer did not get it. The ledger stops counting
it (its part keeps the Stripe id, at zero cents, so the refund's history stays readable), the seats it was for stay
cancelled, and staff are told the buyer is owed that money and must be paid another way."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from registrations.selectors.ledger import ledger_owner, payment_for_intent
from workshops.templatetags.workshop_tags import usd

from ..models import Order, Payment, Refund, RefundPart
from ..stripe import client as stripe_client
from .payments import flag_for_review
from .dashboard_refunds import catch_up_with_stripe

logger = logging.getLogger(__name__)

FAILURES = {
    "expired_or_canceled_card": "the card was expired or cancelled",
    "lost_or_stolen_card": "the card was reported lost or stolen",
    "declined": "the card's bank declined it",
    "insufficient_funds": "the account had insufficient funds",
    "merchant_request": "it was cancelled",
    "charge_for_pending_refund_disputed": "the payment was disputed while the refund was pending",
}


def record_failed_refund(
    *, stripe_refund_id: str, payment_intent_id: str, amount_cents: int, ledger_part: int | None, failure_reason: str
) -> Order | None:
    """A `refund.failed` event. What the charge holds now is read from Stripe (its refunds listed under the order's
    lock), not inferred. Returns the order flagged, or None when the payment is not ours.
    Raises stripe_client.PaymentProviderError (nothing is recorded; Stripe delivers the event again)."""
    payment = payment_for_intent(payment_intent_id)
    if payment is None:
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=ledger_owner(payment).pk)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        at_stripe = stripe_client.list_refunds(payment_intent_id)
        held = min(sum(r.amount_cents for r in at_stripe), payment.amount_cents)
        Payment.objects.filter(pk=payment.pk).update(
            stripe_refunded_cents=held, stripe_refund_failed_cents=F("stripe_refund_failed_cents") + amount_cents
        )
        payment.stripe_refunded_cents = held
        why = FAILURES.get(failure_reason, "Stripe gave no reason")
        part = payment.refund_parts.select_related("refund").filter(stripe_refund_id=stripe_refund_id).first()
        if part is None and ledger_part is not None:
            part = payment.refund_parts.select_related("refund").filter(pk=ledger_part).first()
        if part is not None:
            _undo(part, cents=part.amount_cents, why=why, stripe_refund_id=stripe_refund_id)
        else:
            _bring_hand_refunds_down_to(payment, at_stripe, why=why)
        catch_up_with_stripe(order=order, payment=payment, at_stripe=at_stripe)
        flag_for_review(
            order=order, key=f"payment_review:refund_failed:{stripe_refund_id}",
            note=f"Stripe could not complete refund {stripe_refund_id} of {usd(amount_cents)} from payment "
            f"{payment.reference or payment.pk} ({why}): the money is back in the Stripe balance and the buyer did not get "
            "it. The ledger no longer counts it as refunded; any seats it was for stay cancelled. Contact the buyer "
            "and return it another way (a cheque or a bank transfer).",
        )
    logger.warning("Refund %s of %s failed at Stripe (%s)", stripe_refund_id, payment_intent_id, failure_reason)
    return order


def _undo(part: RefundPart, *, cents: int, why: str, stripe_refund_id: str = "") -> None:
    """Take `cents` of a refund part out of what the ledger counts (made or still waiting on Stripe's answer: a retry
    sends nothing for a part at zero), and say why on its refund. `stripe_refund_id`: the failed refund is this part's
    own (recorded on it if its answer was lost)."""
    RefundPart.objects.filter(pk=part.pk).update(
        amount_cents=F("amount_cents") - cents, stripe_refund_id=part.stripe_refund_id or stripe_refund_id
    )
    note = f" (failed at Stripe, {why}: {usd(cents)} not returned)"
    refund = part.refund
    Refund.objects.filter(pk=refund.pk).update(
        amount_cents=F("amount_cents") - cents, reason=(refund.reason[: 200 - len(note)] + note).strip()
    )
    if refund.made_at is None and not refund.parts.filter(amount_cents__gt=0).exists():
        # Its answer was lost and all of it failed: nothing is left to send, so the worker's retry stops here.
        Refund.objects.filter(pk=refund.pk).update(made_at=timezone.now())


def _bring_hand_refunds_down_to(payment: Payment, at_stripe: list[stripe_client.StripeRefund], *, why: str) -> None:
    """A failed refund the ledger does not know by id was made in Stripe's dashboard and recorded by amount (as a
    dashboard refund, or as settling money owed back): take what the ledger counts as made beyond what Stripe holds
    for those out of the records without a Stripe id, dashboard refunds first, newest first. Refunds of ours that
    Stripe holds while the ledger still waits on their answer are not part of that comparison."""
    waiting = set(payment.refund_parts.filter(refund__made_at__isnull=True).values_list("pk", flat=True))
    holds = min(sum(r.amount_cents for r in at_stripe if r.ledger_part not in waiting), payment.amount_cents)
    made = payment.refund_parts.select_related("refund").filter(refund__made_at__isnull=False)
    over = sum(p.amount_cents for p in made) - holds
    # Seat refunds too: one without a Stripe id was settled by a dashboard refund (see dashboard_refunds.py).
    by_amount = made.filter(stripe_refund_id="", amount_cents__gt=0)
    for part in sorted(by_amount, key=lambda p: (p.refund.kind != Refund.Kind.STRIPE, -p.pk)):
        if over <= 0:
            break
        cents = min(part.amount_cents, over)
        _undo(part, cents=cents, why=why)
        over -= cents
