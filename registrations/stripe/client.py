"""The only module that talks to Stripe.

With STRIPE_SECRET_KEY set, the real SDK is used (pointed at STRIPE_API_BASE when
given, which is how the tests and the bench reach the local Stripe test double).
Without a key, a newcomer's machine still takes a *test* payment: the checkout URL
is a local page, and paying there signs a `checkout.session.completed` event with
the webhook secret and feeds it through the same webhook handler Stripe would hit.
Every call has a time budget, and only so many requests per process wait on Stripe at once
(limits.py): an outage at Stripe gets buyers the retry page, and pages keep being served.

This module is what the services call: Checkout Sessions, refunds and signed test events here; the SDK
client and its limits in base.py and invoices in invoices.py, re-exported so callers use one name.
"""

import json
import logging
import secrets
import time
from dataclasses import dataclass

import stripe
from django.conf import settings
from django.urls import reverse

from ..links import token_url
from .base import (
    PaymentProviderError,
    _absolute,
    _waiting_on_stripe,
    client,
    is_test_payment_mode,
    own_attempt_unanswered,
    webhook_secret,
)
from .invoices import (
    InvoiceLine,
    InvoiceStepError,
    StripeInvoice,
    invoice_payment_intent_id,
    is_local_invoice,
    issue_invoice,
    pay_invoice_out_of_band,
    void_invoice,
)

__all__ = [
    "CheckoutSession", "InvoiceLine", "RefundCreated", "StripeRefund", "InvoiceStepError", "PaymentProviderError", "StripeInvoice", "client",
    "create_checkout_session", "create_refund", "expire_checkout_session", "invoice_payment_intent_id",
    "is_local_invoice", "is_test_payment_mode", "issue_invoice", "ledger_part_of", "list_refunds", "pay_invoice_out_of_band",
    "retrieve_checkout_session", "signed_test_event", "void_invoice", "webhook_secret",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    payment_intent_id: str
    client_reference_id: str


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


def create_checkout_session(
    *, order, product_name: str, description: str, expires_at: int, attempt: int
) -> CheckoutSession:
    """Open a Stripe Checkout Session for the order's frozen price and seat count.

    Raises PaymentProviderError when Stripe is unreachable or refuses.
    """
    success_url = _absolute(token_url("registrations:checkout_success", order.token))
    cancel_url = _absolute(token_url("registrations:checkout_cancel", order.token))
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
            # The SDK's raw request: the same request, retries, idempotency key and errors as
            # `client().v1.checkout.sessions.create`, without turning the answer's two dozen nested parts into
            # Stripe objects, of which checkout start reads a few fields (bench/README.md, "Tenth session").
            session = client().raw_request(
                "post", "/v1/checkout/sessions", **params, idempotency_key=f"checkout-{order.reference}-{attempt}"
            ).data
    except stripe.StripeError as exc:
        logger.warning("Stripe refused or failed checkout for %s: %s", order.reference, exc)
        raise PaymentProviderError.from_stripe(exc) from exc
    # The raw answer is whatever JSON came back: without a session's id and address there is nowhere to send the
    # buyer (a redirect to "" would bring them back to the form), so they get the retry page instead.
    if not (isinstance(session, dict) and isinstance(session.get("id"), str) and session["id"]
            and isinstance(session.get("url"), str) and session["url"]):
        logger.warning("Stripe's answer to checkout for %s is not an open Checkout Session: %.200r", order.reference, session)
        raise PaymentProviderError("Stripe's answer held no Checkout Session address.", outcome_unknown=True)
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


@dataclass(frozen=True)
class RefundCreated:
    id: str
    # Stripe answered with the refund an earlier request with the same idempotency key made (its
    # Idempotent-Replayed header): this request made nothing new.
    replayed: bool = False


def create_refund(
    *, payment_intent_id: str, amount_cents: int, idempotency_key: str, reason_note: str, ledger_part: int | None = None
) -> RefundCreated:
    """Refund part or all of a payment; returns the Stripe refund id, and whether it was an earlier request's refund
    replayed. `ledger_part` (the RefundPart's id) rides in the refund's metadata, so listing the charge's refunds later
    tells this refund from one made by hand.

    Raises PaymentProviderError when Stripe is unreachable or refuses.
    """
    if is_test_payment_mode() or payment_intent_id.startswith("pi_local_"):
        return RefundCreated(f"re_local_{secrets.token_hex(8)}")
    metadata = {"note": reason_note[:500]}
    if ledger_part is not None:
        metadata[LEDGER_PART] = str(ledger_part)
    try:
        with _waiting_on_stripe(f"a refund of {payment_intent_id}"), own_attempt_unanswered(idempotency_key) as unanswered:
            refund = client().v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": metadata},
                options={"idempotency_key": idempotency_key},
            )
    except stripe.StripeError as exc:
        logger.warning("Stripe refund failed for %s: %s", payment_intent_id, exc)
        raise PaymentProviderError.from_stripe(exc) from exc
    answer = getattr(refund, "last_response", None)
    replay = bool(answer and answer.headers.get("Idempotent-Replayed") == "true")
    # A replay after the SDK's own retry of an unanswered attempt may be of that attempt (made, its answer lost): not
    # counted as another request's refund, or staff would read that someone else returned it after the only press.
    return RefundCreated(refund.id, replayed=replay and not unanswered[0])


LEDGER_PART = "ledger_part"
# A refund in these states has been taken out of the charge (Stripe counts it in the charge's amount_refunded);
# failed and canceled ones have not.
_TAKEN = ("pending", "requires_action", "succeeded")


@dataclass(frozen=True)
class StripeRefund:
    id: str
    amount_cents: int
    ledger_part: int | None  # the RefundPart this site sent it for; None for a refund made by hand


def list_refunds(payment_intent_id: str) -> list[StripeRefund]:
    """The refunds Stripe has taken out of a payment (not the failed or canceled ones), each with the ledger part the
    site sent it for, if any. Raises PaymentProviderError when Stripe cannot be asked."""
    if is_test_payment_mode() or payment_intent_id.startswith("pi_local_"):
        return []
    try:
        with _waiting_on_stripe(f"the refunds of {payment_intent_id}"):
            page = client().v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100})
            found = [refund.to_dict() for refund in page.auto_paging_iter()]
    except stripe.StripeError as exc:
        logger.warning("Could not list the refunds of %s: %s", payment_intent_id, exc)
        raise PaymentProviderError.from_stripe(exc) from exc
    return [
        StripeRefund(id=r["id"], amount_cents=int(r.get("amount") or 0), ledger_part=ledger_part_of(r.get("metadata")))
        for r in found if r.get("status") in _TAKEN
    ]


def ledger_part_of(metadata) -> int | None:
    """The ledger part a refund's metadata names, if the site sent it."""
    value = metadata.get(LEDGER_PART) if isinstance(metadata, dict) else None
    # ASCII digits only ("²" is a digit to str.isdigit() and not to int()), and no longer than a primary key.
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18 else None


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
