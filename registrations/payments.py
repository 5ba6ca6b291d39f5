"""The only module that talks to Stripe.

With STRIPE_SECRET_KEY set, the real SDK is used (pointed at STRIPE_API_BASE when
given, which is how the tests and the bench reach the local Stripe test double).
Without a key, a newcomer's machine still takes a *test* payment: the checkout URL
is a local page, and paying there signs a `checkout.session.completed` event with
the webhook secret and feeds it through the same webhook handler Stripe would hit.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

import stripe
from django.conf import settings
from django.urls import reverse

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
def _client(api_key: str, api_base: str, retries: int, timeout: int) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def client() -> stripe.StripeClient:
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_TIMEOUT_SECONDS,
    )


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
    try:
        session = client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"checkout-{order.reference}-{attempt}"}
        )
    except stripe.StripeError as exc:
        logger.warning("Stripe refused or failed checkout for %s: %s", order.reference, exc)
        raise PaymentProviderError(str(exc)) from exc
    return _session_from_stripe(session)


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    try:
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
        client().v1.checkout.sessions.expire(session_id)
    except stripe.StripeError as exc:
        # Already complete or expired; a late payment is handled by the webhook.
        logger.info("Could not expire Checkout Session %s: %s", session_id, exc)


def create_refund(*, payment_intent_id: str, amount_cents: int, idempotency_key: str, reason_note: str) -> str:
    """Refund part or all of a payment; returns the Stripe refund id.

    Raises PaymentProviderError when Stripe is unreachable or refuses.
    """
    if is_test_payment_mode() or payment_intent_id.startswith("pi_local_"):
        return f"re_local_{secrets.token_hex(8)}"
    try:
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
