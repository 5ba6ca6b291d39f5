"""The finance export: one entry per payment and one per refund (per payment it came out of), for matching
Stripe payouts line by line.

Entries that count toward revenue are exactly the ledger's accepted payments and the refunds taken out of
them, so their sum for a workshop equals the net revenue on the admin home and the Net column of the orders
CSV. Payments that were not accepted (duplicates, late payments, payments waiting for review) and what was
returned from them are listed too, marked as not counted: Stripe paid them out and took them back.

A refund is listed when its money went back (`made_at`): money owed back that Stripe has not taken yet (a return the
worker is retrying) is not in the export until Stripe takes it, and then on the day it did.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from ..models import Order, Payment, Refund, RefundPart
from .ledger import ledger_owner


@dataclass(frozen=True)
class FinanceEntry:
    when: datetime
    kind: str  # "Payment" or "Refund"
    amount_cents: int  # refunds are negative
    payment: Payment
    owner: Order  # the order whose money it is (seats added later belong to the order they joined)
    counted: bool
    refund: Refund | None = None
    stripe_refund_id: str = ""


def finance_entries(
    *, workshop_id: int | None = None, since: datetime | None = None, until: datetime | None = None,
    payments: QuerySet[Payment] | None = None,
) -> list[FinanceEntry]:
    """Payments received and refunds made in [since, until) (for `workshop_id`, or among `payments`), oldest
    first, in two queries however many there are."""
    paid = payments if payments is not None else Payment.objects.all()
    parts = RefundPart.objects.filter(refund__made_at__isnull=False)
    parts = parts.filter(payment__in=paid) if payments is not None else parts
    if workshop_id is not None:
        paid, parts = paid.filter(order__workshop_id=workshop_id), parts.filter(payment__order__workshop_id=workshop_id)
    if since is not None:
        paid, parts = paid.filter(received_at__gte=since), parts.filter(refund__made_at__gte=since)
    if until is not None:
        paid, parts = paid.filter(received_at__lt=until), parts.filter(refund__made_at__lt=until)
    accepted = Payment.Status.ACCEPTED
    entries = [
        FinanceEntry(when=p.received_at, kind="Payment", amount_cents=p.amount_cents, payment=p, owner=ledger_owner(p),
                     counted=p.status == accepted)
        for p in paid.select_related("order__workshop", "order__parent__workshop")
    ]
    entries += [
        FinanceEntry(
            when=part.refund.made_at, kind="Refund", amount_cents=-part.amount_cents, payment=part.payment,
            owner=ledger_owner(part.payment), counted=part.payment.status == accepted, refund=part.refund,
            stripe_refund_id=part.stripe_refund_id or part.refund.stripe_refund_id,
        )
        for part in parts.select_related("refund", "payment__order__workshop", "payment__order__parent__workshop")
    ]
    return sorted(entries, key=lambda e: (e.when, e.kind != "Payment", e.payment.pk))
