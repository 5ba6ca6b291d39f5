"""What Stripe says a Checkout Session was paid with, for the payment ledger to check before fulfilling."""

import logging
from dataclasses import dataclass

import stripe

from .base import PaymentProviderError, _waiting_on_stripe, client
from .client import _session_from_stripe

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionPayment:
    id: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    payment_intent_id: str
    client_reference_id: str
    amount_total: int | None
    currency: str


def retrieve_session_payment(session_id: str) -> SessionPayment:
    """A Checkout Session with the amount and currency it was paid in. Raises PaymentProviderError."""
    try:
        with _waiting_on_stripe(f"Checkout Session {session_id}"):
            obj = client().v1.checkout.sessions.retrieve(session_id).to_dict()
    except stripe.StripeError as exc:
        logger.warning("Could not retrieve Checkout Session %s: %s", session_id, exc)
        raise PaymentProviderError(str(exc)) from exc
    session = _session_from_stripe(obj)
    amount = obj.get("amount_total")
    return SessionPayment(
        id=session.id,
        status=session.status,
        payment_status=session.payment_status,
        payment_intent_id=session.payment_intent_id,
        client_reference_id=session.client_reference_id,
        amount_total=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=obj.get("currency") or "",
    )
