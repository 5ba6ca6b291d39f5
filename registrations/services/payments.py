"""Recording money received in the ledger: each payment checked against what the site asked for, once,
and anything that does not match kept for staff review (flagged on the order, staff emailed once)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, Q, QuerySet
from django.utils import timezone

from registrations.selectors.ledger import OrderMoney, ledger_owner, payment_for_intent
from workshops.templatetags.workshop_tags import usd

from .. import emails
from ..models import Order, Payment, PaymentRequest


@dataclass(frozen=True)
class ReceivedPayment:
    """A payment as Stripe, staff or a local test payment reported it, before it is checked.

    `amount_cents` is None when the report did not say (then it cannot match anything).
    """

    source: str
    amount_cents: int | None
    currency: str
    payment_intent_id: str = ""
    checkout_session_id: str = ""
    invoice_id: str = ""
    event_id: str = ""

    @property
    def description(self) -> str:
        amount = "an unknown amount" if self.amount_cents is None else f"{self.amount_cents} {self.currency.upper() or '?'} cents"
        via = self.checkout_session_id or self.invoice_id or self.payment_intent_id or "no Stripe id"
        return f"{amount} via {via}"


def _recorded(payment: ReceivedPayment) -> QuerySet[Payment]:
    match = Q(pk__in=[])
    if payment.payment_intent_id:
        match |= Q(stripe_payment_intent_id=payment.payment_intent_id)
    if payment.checkout_session_id:
        match |= Q(stripe_checkout_session_id=payment.checkout_session_id)
    if payment.invoice_id:
        match |= Q(stripe_invoice_id=payment.invoice_id)
    return Payment.objects.filter(match)


def check_payment(*, order: Order, payment: ReceivedPayment) -> tuple[bool, str]:
    """Whether this payment is in the ledger already (a repeated event, or the success page first), and if not,
    why it cannot pay this order ("" when it can): it must come from a Checkout Session or Invoice the site
    created for the order, for exactly the amount and currency asked. One query on the usual path.
    """
    if payment.checkout_session_id:
        kind, provider_id = PaymentRequest.Kind.CHECKOUT, payment.checkout_session_id
    else:
        kind, provider_id = PaymentRequest.Kind.INVOICE, payment.invoice_id
    request = (
        PaymentRequest.objects.filter(kind=kind, provider_id=provider_id)
        .annotate(recorded=Exists(_recorded(payment)))
        .first()
        if provider_id
        else None
    )
    if request is None:
        if _recorded(payment).exists():
            return True, ""
        return False, f"it came from a Checkout Session or invoice this site did not create for {order.reference}"
    if request.recorded:
        return True, ""
    if request.order_id != order.pk:
        return False, f"it came from a Checkout Session or invoice this site created for another order, not {order.reference}"
    if payment.amount_cents != request.amount_cents or payment.currency.lower() != request.currency.lower():
        return False, f"it was for {payment.description}, but {usd(request.amount_cents)} {request.currency.upper()} was asked"
    return False, ""


def record_payment(*, order: Order, payment: ReceivedPayment, status: str, now: datetime, note: str = "") -> Payment:
    """Write the ledger row, inside the caller's transaction (which holds the order's lock)."""
    return Payment.objects.create(
        order=order,
        amount_cents=max(payment.amount_cents or 0, 0),
        currency=(payment.currency or "").lower()[:3],
        source=payment.source,
        status=status,
        stripe_payment_intent_id=payment.payment_intent_id,
        stripe_checkout_session_id=payment.checkout_session_id,
        stripe_invoice_id=payment.invoice_id,
        stripe_event_id=payment.event_id,
        note=note[:500],
        received_at=now,
    )


def flag_for_review(*, order: Order, note: str, key: str, now: datetime | None = None) -> None:
    """Mark the order "payment needs review" with a dated note and email staff once per `key`.

    Inside the caller's transaction, on an order row it has locked (or may write without one: the
    update touches only the review fields).
    """
    now = now or timezone.now()
    line = f"{now:%Y-%m-%d %H:%M} UTC: {note}"
    text = f"{order.payment_review_note}\n{line}".strip() if order.payment_review_note else line
    Order.objects.filter(pk=order.pk).update(payment_needs_review=True, payment_review_note=text, updated_at=now)
    order.payment_needs_review, order.payment_review_note = True, text
    emails.send_payment_review(order_id=order.pk, note=note, key=key)


FAILED_MONEY_BACK = "nothing more is owed to the buyer"


def note_when_failed_money_is_back(order: Order, *, money: OrderMoney, kept: int) -> None:
    """An order flagged because a refund failed at Stripe (the buyer owed that money, to be paid another way), whose
    money has all gone back through Stripe since (`kept`, what it still keeps, is nothing: a later refund covered it):
    tell staff, or they would pay it twice. Inside the caller's transaction, on the order row it has locked."""
    failed = sum(p.stripe_refund_failed_cents for p in money.payments)
    if not failed or kept > 0:
        return
    if order.payment_review_note and FAILED_MONEY_BACK in order.payment_review_note.splitlines()[-1]:
        return
    flag_for_review(
        order=order, key=f"payment_review:refund_failed_covered:{failed}",
        note=f"Everything this order kept is now back with the buyer through Stripe, including the {usd(failed)} of "
        f"the refund that failed: {FAILED_MONEY_BACK}. Do not pay it another way.",
    )


def hold_for_review(*, order: Order, payment: ReceivedPayment, problem: str, now: datetime) -> Payment:
    """A payment that does not match: kept in the ledger (not counted), the order left as it was, staff told."""
    row = record_payment(order=order, payment=payment, status=Payment.Status.REVIEW, now=now, note=f"Not accepted: {problem}.")
    flag_for_review(
        order=order,
        now=now,
        note=f"a payment of {payment.description} was not accepted for {order.reference}: {problem}. "
        "The order was left as it was; refund the payment in Stripe if it was not meant for this order.",
        key=f"payment_review:{row.pk}",
    )
    return row


def record_dispute(*, dispute_id: str, payment_intent_id: str, amount_cents: int | None, reason: str) -> Order | None:
    """A `charge.dispute.created` event: flag the order the disputed payment belongs to and email staff.

    Returns the order, or None when the payment is not one of ours.
    """
    payment = payment_for_intent(payment_intent_id)
    if payment is None:
        return None
    order = ledger_owner(payment)
    amount = "an unknown amount" if amount_cents is None else usd(amount_cents)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        flag_for_review(
            order=order,
            note=f"the buyer's bank opened dispute {dispute_id} for {amount} of payment {payment_intent_id} "
            f"(reason: {reason or 'not given'}). Answer it in Stripe's dashboard before its deadline.",
            key=f"dispute:{dispute_id}",
        )
    return order


def clear_review(*, order: Order) -> bool:
    """Staff have dealt with what was flagged (saved through the model, so the audit trail records who). Returns
    whether the flag was set."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if not order.payment_needs_review:
            return False
        order.payment_needs_review = False
        order.save(update_fields=["payment_needs_review", "updated_at"])
    return True
