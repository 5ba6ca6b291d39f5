"""Stripe Invoices for organisations paying by invoice: create and send, mark paid out of band, void, find the payment."""

import logging
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal

import stripe
from django.conf import settings
from django.urls import reverse

from .base import PaymentProviderError, _waiting_on_stripe, client, is_test_payment_mode

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: int = 1
    unit_amount_cents: int | None = None  # per unit, with quantity
    amount_cents: int | None = None  # a whole line (negative for a discount), without quantity


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    customer_id: str
    status: str  # draft, open, paid, void, uncollectible
    number: str
    hosted_invoice_url: str
    due_date: int | None
    line_count: int


class InvoiceStepError(PaymentProviderError):
    """A step of issuing an invoice failed; carries what was created before it, for the retry."""

    def __init__(self, message: str, *, customer_id: str = "", invoice_id: str = ""):
        super().__init__(message)
        self.customer_id = customer_id
        self.invoice_id = invoice_id


def is_local_invoice(invoice_id: str) -> bool:
    return invoice_id.startswith("in_local_")


def _invoice_from_stripe(obj) -> StripeInvoice:
    obj = obj.to_dict() if hasattr(obj, "to_dict") else obj
    customer = obj.get("customer") or ""
    if not isinstance(customer, str):
        customer = customer.get("id", "")
    lines = obj.get("lines") or {}
    return StripeInvoice(
        id=obj["id"],
        customer_id=customer,
        status=obj.get("status") or "",
        number=obj.get("number") or "",
        hosted_invoice_url=obj.get("hosted_invoice_url") or "",
        due_date=obj.get("due_date"),
        line_count=len(lines.get("data") or []) if isinstance(lines, dict) else 0,
    )


def _local_invoice(*, order, days_until_due: int, status: str = "open", invoice_id: str = "") -> StripeInvoice:
    return StripeInvoice(
        id=invoice_id or f"in_local_{secrets.token_urlsafe(18)}",
        customer_id=f"cus_local_{order.reference}",
        status=status,
        number=f"TEST-{order.reference.removeprefix('ESL-')}",
        hosted_invoice_url=reverse("registrations:test_invoice", kwargs={"token": order.token}),
        due_date=int(time.time()) + days_until_due * 86400,
        line_count=1,
    )


def _create_invoice_customer(api, *, order, metadata: dict) -> str:
    """The Customer an invoice is addressed to: the billing contact at the organisation's address."""
    address = {
        "line1": order.billing_line1,
        "city": order.billing_city,
        "state": order.billing_state,
        "postal_code": order.billing_postal_code,
        "country": order.billing_country or "US",
    }
    if order.billing_line2:
        address["line2"] = order.billing_line2
    customer = api.customers.create(
        params={
            "email": order.billing_email,
            "name": order.billing_name,
            "description": order.organisation,
            "address": address,
            "metadata": metadata,
        },
        options={"idempotency_key": f"invoice-customer-{order.reference}"},
    )
    return customer.id


def _add_invoice_items(api, *, lines: list[InvoiceLine], customer_id: str, invoice_id: str, metadata: dict) -> None:
    """The draft invoice's lines, each with its own idempotency key so a resumed attempt adds none twice."""
    reference = metadata["order_reference"]
    for number, line in enumerate(lines, start=1):
        item = {
            "customer": customer_id,
            "invoice": invoice_id,
            "currency": settings.STRIPE_CURRENCY,
            "description": line.description,
            "metadata": metadata,
        }
        if line.amount_cents is not None:
            item["amount"] = line.amount_cents
        else:
            item["quantity"] = line.quantity
            # The SDK's invoice items take a decimal string unit amount (there is no `unit_amount`).
            item["unit_amount_decimal"] = Decimal(line.unit_amount_cents)
        api.invoice_items.create(params=item, options={"idempotency_key": f"invoice-item-{reference}-{number}"})


def issue_invoice(
    *, order, lines: list[InvoiceLine], days_until_due: int, description: str, customer_id: str = "", invoice_id: str = ""
) -> StripeInvoice:
    """Create (or resume), finalize and send a Stripe invoice the organisation pays on Stripe's hosted page.

    Steps: a Customer with the billing contact and address, a draft invoice
    (`send_invoice`, `days_until_due`, PO number as a custom field, order reference in
    metadata), its invoice items, finalize, send. Each step has an idempotency key derived
    from the order reference; pass the ids a failed attempt had created to resume after them.
    Raises InvoiceStepError (a PaymentProviderError) with the ids created so far.
    """
    if is_test_payment_mode():
        return _local_invoice(order=order, days_until_due=days_until_due)
    api = client().v1
    reference = order.reference
    metadata = {"order_reference": reference}
    try:
        with _waiting_on_stripe(f"invoice for {reference}"):
            if not customer_id:
                customer_id = _create_invoice_customer(api, order=order, metadata=metadata)
            if invoice_id:
                invoice = _invoice_from_stripe(api.invoices.retrieve(invoice_id))
            else:
                params = {
                    "customer": customer_id,
                    "collection_method": "send_invoice",
                    "days_until_due": days_until_due,
                    "currency": settings.STRIPE_CURRENCY,
                    "description": description,
                    "metadata": metadata,
                    "auto_advance": False,
                }
                if order.po_number:
                    params["custom_fields"] = [{"name": "PO number", "value": order.po_number[:140]}]
                invoice = _invoice_from_stripe(
                    api.invoices.create(params=params, options={"idempotency_key": f"invoice-{reference}"})
                )
                invoice_id = invoice.id
            if invoice.status == "draft":
                if invoice.line_count == 0:
                    _add_invoice_items(api, lines=lines, customer_id=customer_id, invoice_id=invoice_id, metadata=metadata)
                api.invoices.finalize_invoice(invoice_id, options={"idempotency_key": f"invoice-finalize-{reference}"})
            invoice = _invoice_from_stripe(
                api.invoices.send_invoice(invoice_id, options={"idempotency_key": f"invoice-send-{reference}"})
            )
    except (stripe.StripeError, PaymentProviderError) as exc:
        logger.warning("Stripe refused or failed the invoice for %s: %s", reference, exc)
        raise InvoiceStepError(str(exc), customer_id=customer_id, invoice_id=invoice_id) from exc
    return invoice


def pay_invoice_out_of_band(invoice_id: str, *, idempotency_key: str) -> StripeInvoice | None:
    """Tell Stripe an invoice was paid outside it (a cheque). None for a local test invoice.

    Raises PaymentProviderError (e.g. the invoice is void or already paid).
    """
    if is_local_invoice(invoice_id):
        return None
    try:
        with _waiting_on_stripe(f"invoice {invoice_id}"):
            invoice = client().v1.invoices.pay(
                invoice_id, params={"paid_out_of_band": True}, options={"idempotency_key": idempotency_key}
            )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused to mark invoice %s paid out of band: %s", invoice_id, exc)
        raise PaymentProviderError(str(exc)) from exc
    return _invoice_from_stripe(invoice)


def void_invoice(invoice_id: str, *, idempotency_key: str) -> StripeInvoice | None:
    """Void an open invoice so it can no longer be paid. None for a local test invoice.

    Raises PaymentProviderError (e.g. it was paid a moment ago, or Stripe is down).
    """
    if is_local_invoice(invoice_id):
        return None
    try:
        with _waiting_on_stripe(f"voiding {invoice_id}"):
            invoice = client().v1.invoices.void_invoice(invoice_id, options={"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        logger.warning("Could not void invoice %s: %s", invoice_id, exc)
        raise PaymentProviderError(str(exc)) from exc
    return _invoice_from_stripe(invoice)


def invoice_payment_intent_id(invoice_id: str) -> str:
    """The PaymentIntent that paid an invoice on Stripe's page; "" when it was paid out of band.

    Raises PaymentProviderError.
    """
    if is_local_invoice(invoice_id):
        return ""
    try:
        with _waiting_on_stripe(f"invoice {invoice_id}"):
            invoice = client().v1.invoices.retrieve(invoice_id, params={"expand": ["payments"]}).to_dict()
    except stripe.StripeError as exc:
        logger.warning("Could not retrieve invoice %s: %s", invoice_id, exc)
        raise PaymentProviderError(str(exc)) from exc
    for payment in (invoice.get("payments") or {}).get("data") or []:
        intent = (payment.get("payment") or {}).get("payment_intent")
        if payment.get("status") == "paid" and intent:
            return intent if isinstance(intent, str) else intent.get("id", "")
    return ""
