"""The only module that talks to Stripe.

With STRIPE_SECRET_KEY set, the real SDK is used (pointed at STRIPE_API_BASE when
given, which is how the tests and the bench reach the local Stripe test double).
Without a key, a newcomer's machine still takes a *test* payment: the checkout URL
is a local page, and paying there signs a `checkout.session.completed` event with
the webhook secret and feeds it through the same webhook handler Stripe would hit.
Every call has a time budget, and only so many requests per process wait on Stripe at once
(limits.py): an outage at Stripe gets buyers the retry page, and pages keep being served.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import stripe
from django.conf import settings
from django.urls import reverse

from . import limits

logger = logging.getLogger(__name__)


class PaymentProviderError(Exception):
    """Stripe could not be reached or refused the request; safe to show the buyer a retry."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    payment_intent_id: str
    client_reference_id: str


def is_test_payment_mode() -> bool:
    return not settings.STRIPE_SECRET_KEY


def webhook_secret() -> str:
    if settings.STRIPE_WEBHOOK_SECRET:
        return settings.STRIPE_WEBHOOK_SECRET
    if is_test_payment_mode():
        # Local test payments sign their events with a secret derived from SECRET_KEY.
        digest = hmac.new(settings.SECRET_KEY.encode(), b"local-test-payments-webhook", hashlib.sha256).hexdigest()
        return f"whsec_local_{digest}"
    return ""


@lru_cache(maxsize=8)
def _client(api_key: str, api_base: str, retries: int, connect_timeout: float, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        # (connect, read): at most this long to connect, then at most this long waiting for the answer.
        http_client=stripe.RequestsClient(timeout=(connect_timeout, timeout)),
    )


def client() -> stripe.StripeClient:
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_CONNECT_TIMEOUT_SECONDS,
        settings.STRIPE_TIMEOUT_SECONDS,
    )


@contextmanager
def _waiting_on_stripe(what: str) -> Iterator[None]:
    """A place among the requests waiting on Stripe (limits.waiting_on_stripe), or PaymentProviderError at once."""
    try:
        with limits.waiting_on_stripe(what):
            yield
    except limits.StripeBusyError as exc:
        raise PaymentProviderError(str(exc)) from exc


def _session_from_stripe(obj) -> CheckoutSession:
    obj = obj.to_dict() if hasattr(obj, "to_dict") else obj
    payment_intent = obj.get("payment_intent") or ""
    if not isinstance(payment_intent, str):
        payment_intent = payment_intent.get("id", "")
    return CheckoutSession(
        id=obj["id"],
        url=obj.get("url") or "",
        status=obj.get("status") or "",
        payment_status=obj.get("payment_status") or "",
        payment_intent_id=payment_intent,
        client_reference_id=obj.get("client_reference_id") or "",
    )


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def create_checkout_session(
    *, order, product_name: str, description: str, expires_at: int, attempt: int
) -> CheckoutSession:
    """Open a Stripe Checkout Session for the order's frozen price and seat count.

    Raises PaymentProviderError when Stripe is unreachable or refuses.
    """
    success_url = _absolute(reverse("registrations:checkout_success", kwargs={"token": order.token}))
    cancel_url = _absolute(reverse("registrations:checkout_cancel", kwargs={"token": order.token}))
    if is_test_payment_mode():
        session_id = f"cs_local_{secrets.token_urlsafe(24)}"
        return CheckoutSession(
            id=session_id,
            url=reverse("registrations:test_payment", kwargs={"token": order.token}),
            status="open",
            payment_status="unpaid",
            payment_intent_id="",
            client_reference_id=order.reference,
        )
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": order.seat_count,
                "price_data": {
                    "currency": settings.STRIPE_CURRENCY,
                    "unit_amount": order.unit_price_cents,
                    "product_data": {"name": product_name, "description": description},
                },
            }
        ],
        "customer_email": order.buyer_email,
        "client_reference_id": order.reference,
        "metadata": {"order_reference": order.reference},
        "payment_intent_data": {"metadata": {"order_reference": order.reference}},
        "expires_at": expires_at,
        "success_url": f"{success_url}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": cancel_url,
    }
    if order.kind == order.Kind.ADDITION:
        # Seats added to a paid order: one line for exactly the difference the team still owes.
        params["line_items"][0].update(quantity=1)
        params["line_items"][0]["price_data"]["unit_amount"] = order.total_cents
    try:
        with _waiting_on_stripe(f"checkout {order.reference}"):
            if order.discount_cents:
                # The line items keep the frozen tier price; the code's discount is a one-off coupon.
                coupon = client().v1.coupons.create(
                    params={
                        "amount_off": order.discount_cents,
                        "currency": settings.STRIPE_CURRENCY,
                        "duration": "once",
                        "max_redemptions": 1,
                        "name": (order.voucher.code if order.voucher_id else "Discount")[:40],
                        "metadata": {"order_reference": order.reference},
                    },
                    options={"idempotency_key": f"coupon-{order.reference}"},
                )
                params["discounts"] = [{"coupon": coupon.id}]
            session = client().v1.checkout.sessions.create(
                params=params, options={"idempotency_key": f"checkout-{order.reference}-{attempt}"}
            )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused or failed checkout for %s: %s", order.reference, exc)
        raise PaymentProviderError(str(exc)) from exc
    return _session_from_stripe(session)


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    try:
        with _waiting_on_stripe(f"Checkout Session {session_id}"):
            session = client().v1.checkout.sessions.retrieve(session_id)
    except stripe.StripeError as exc:
        logger.warning("Could not retrieve Checkout Session %s: %s", session_id, exc)
        raise PaymentProviderError(str(exc)) from exc
    return _session_from_stripe(session)


def expire_checkout_session(session_id: str) -> None:
    """Close an open Checkout Session so it can no longer be paid. Best effort."""
    if is_test_payment_mode() or not session_id:
        return
    try:
        with _waiting_on_stripe(f"expiring {session_id}"):
            client().v1.checkout.sessions.expire(session_id)
    except (stripe.StripeError, PaymentProviderError) as exc:
        # Already complete or expired, or Stripe busy; a late payment is handled by the webhook.
        logger.info("Could not expire Checkout Session %s: %s", session_id, exc)


def create_refund(*, payment_intent_id: str, amount_cents: int, idempotency_key: str, reason_note: str) -> str:
    """Refund part or all of a payment; returns the Stripe refund id.

    Raises PaymentProviderError when Stripe is unreachable or refuses.
    """
    if is_test_payment_mode() or payment_intent_id.startswith("pi_local_"):
        return f"re_local_{secrets.token_hex(8)}"
    try:
        with _waiting_on_stripe(f"a refund of {payment_intent_id}"):
            refund = client().v1.refunds.create(
                params={
                    "payment_intent": payment_intent_id,
                    "amount": amount_cents,
                    "metadata": {"note": reason_note[:500]},
                },
                options={"idempotency_key": idempotency_key},
            )
    except stripe.StripeError as exc:
        logger.warning("Stripe refund failed for %s: %s", payment_intent_id, exc)
        raise PaymentProviderError(str(exc)) from exc
    return refund.id


def signed_test_event(*, event_type: str, data_object: dict) -> tuple[bytes, str]:
    """Build and sign an event the way Stripe does, for local test payments."""
    payload = json.dumps(
        {
            "id": f"evt_local_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": data_object},
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, webhook_secret())
    return payload.encode(), header


# --- Invoices: "invoice my organisation" -------------------------------------------------


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
