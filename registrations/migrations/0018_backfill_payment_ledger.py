"""Existing orders in the ledger: a payment for every order that was paid, the sessions and invoices the site had
asked to be paid, each refund tied to the payment it came out of, and the seats each code covered."""

from django.db import migrations
from django.db.models import Sum

TOOK_MONEY = ("paid", "refunded", "needs_refund", "merged")


def _own_amount(order, Order) -> int:
    """What the order's own payment was: an order that grew holds its added seats' totals too."""
    if order.kind == "addition":
        return order.total_cents
    merged = Order.objects.filter(parent=order, status="merged").aggregate(n=Sum("total_cents"))["n"] or 0
    return max(order.total_cents - merged, 0)


def _source(order) -> str:
    if order.is_test_payment:
        return "local"
    if order.payment_method == "invoice":
        return "out_of_band" if order.invoice_paid_out_of_band else "invoice"
    return "checkout"


def _request_amounts(Order, PaymentRequest):
    seen = set(PaymentRequest.objects.values_list("provider_id", flat=True))
    for order in Order.objects.exclude(stripe_checkout_session_id="", stripe_invoice_id="").iterator():
        amount = _own_amount(order, Order)
        for kind, provider_id in (("checkout", order.stripe_checkout_session_id), ("invoice", order.stripe_invoice_id)):
            if provider_id and provider_id not in seen:
                seen.add(provider_id)
                PaymentRequest.objects.create(
                    order=order, kind=kind, provider_id=provider_id, amount_cents=amount, currency="usd"
                )


def _payments(Order, Payment) -> dict:
    used = {"intent": set(), "session": set(), "invoice": set()}
    by_order = {}
    for order in Order.objects.filter(status__in=TOOK_MONEY, paid_at__isnull=False).order_by("paid_at", "pk").iterator():
        amount = _own_amount(order, Order)
        if amount == 0:
            continue
        ids = {}
        for key, value in (
            ("intent", order.stripe_payment_intent_id),
            ("session", order.stripe_checkout_session_id if order.payment_method == "card" else ""),
            ("invoice", order.stripe_invoice_id if order.payment_method == "invoice" else ""),
        ):
            ids[key] = value if value and value not in used[key] else ""
            used[key].add(value)
        by_order[order.pk] = Payment.objects.create(
            order=order,
            amount_cents=amount,
            currency="usd",
            source=_source(order),
            status="refused" if order.status == "needs_refund" else "accepted",
            stripe_payment_intent_id=ids["intent"],
            stripe_checkout_session_id=ids["session"],
            stripe_invoice_id=ids["invoice"],
            note="Recorded from the order when the payment ledger was introduced.",
            received_at=order.paid_at,
        )
    return by_order


def _family_payments(order, by_order, Order) -> list:
    """The order's own payment, then those of the seats added to it, oldest first."""
    members = [order.pk] + list(
        Order.objects.filter(parent=order, status="merged").order_by("paid_at", "pk").values_list("pk", flat=True)
    )
    return [by_order[pk] for pk in members if pk in by_order]


def _tie_refunds(Order, Payment, Refund, RefundPart, by_order) -> None:
    for part in RefundPart.objects.filter(ledger_payment__isnull=True, payment__isnull=False).select_related("payment"):
        payment = by_order.get(part.payment_id)
        if payment is None:
            # A refund from an order with no payment on record (it cannot happen today): record the payment it implies.
            payment = by_order[part.payment_id] = Payment.objects.create(
                order=part.payment, amount_cents=part.amount_cents, currency="usd", source=_source(part.payment),
                note="Implied by a refund when the payment ledger was introduced.",
                received_at=part.payment.paid_at or part.payment.updated_at,
            )
        part.ledger_payment = payment
        part.save(update_fields=["ledger_payment"])
    for refund in Refund.objects.filter(parts__isnull=True).select_related("order").order_by("created_at", "pk"):
        # Refunds recorded before refunds were tracked per payment came out newest payment first.
        left = refund.amount_cents
        for payment in reversed(_family_payments(refund.order, by_order, Order)):
            taken = RefundPart.objects.filter(ledger_payment=payment).aggregate(n=Sum("amount_cents"))["n"] or 0
            take = min(max(payment.amount_cents - taken, 0), left)
            if take > 0:
                RefundPart.objects.create(refund=refund, ledger_payment=payment, payment=payment.order, amount_cents=take)
                left -= take
    Refund.objects.filter(seat_count=0).update(kind="stripe")


def forward(apps, schema_editor):
    Order = apps.get_model("registrations", "Order")
    Payment = apps.get_model("registrations", "Payment")
    PaymentRequest = apps.get_model("registrations", "PaymentRequest")
    Refund = apps.get_model("registrations", "Refund")
    RefundPart = apps.get_model("registrations", "RefundPart")
    _request_amounts(Order, PaymentRequest)
    by_order = _payments(Order, Payment)
    _tie_refunds(Order, Payment, Refund, RefundPart, by_order)
    # Before, a code's one use covered every seat of the order.
    for order in Order.objects.filter(voucher__isnull=False).only("pk", "seat_count"):
        Order.objects.filter(pk=order.pk).update(voucher_seat_count=order.seat_count)


def backward(apps, schema_editor):
    Order = apps.get_model("registrations", "Order")
    Payment = apps.get_model("registrations", "Payment")
    PaymentRequest = apps.get_model("registrations", "PaymentRequest")
    Refund = apps.get_model("registrations", "Refund")
    RefundPart = apps.get_model("registrations", "RefundPart")
    for part in RefundPart.objects.filter(ledger_payment__isnull=False).select_related("ledger_payment"):
        part.payment_id = part.ledger_payment.order_id
        part.ledger_payment = None
        part.save(update_fields=["payment", "ledger_payment"])
    for row in Refund.objects.values("order").annotate(n=Sum("amount_cents")):
        Order.objects.filter(pk=row["order"]).update(refunded_cents=row["n"])
    Payment.objects.all().delete()
    PaymentRequest.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0017_seat_counted_prices"),
    ]

    operations = [migrations.RunPython(forward, backward)]
