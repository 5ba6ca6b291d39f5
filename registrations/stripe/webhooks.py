"""Stripe webhook handling: verify, record once per event id, then act on the order through the ledger."""

import json
import logging
import math

import stripe
from django.db import IntegrityError, transaction

from registrations.services.fulfilment import (
    expire_order,
    fail_order,
    fulfil_order,
    mark_processing,
)
from registrations.services.invoices import close_invoice_order, record_invoice_paid
from registrations.services.payments import ReceivedPayment, record_dispute
from registrations.services.dashboard_refunds import record_stripe_refund
from registrations.services.refund_failures import record_failed_refund
from registrations.services.seat_refunds import send_seat_refund_rests

from ..models import Order, Payment, PaymentRequest, StripeEvent
from . import client as stripe_client

logger = logging.getLogger(__name__)


class InvalidWebhookError(Exception):
    """Bad or missing signature, stale timestamp or unreadable body: answer 400."""


def _unstorable(value) -> bool:
    """Whether the parsed event holds what PostgreSQL's JSON cannot store and Stripe never sends: a NUL character in
    any string (key or value), or a number that is not finite (JSON's Infinity, which Python's parser accepts).
    Checked on the parsed values: the six characters of a JSON escape inside someone's text are not a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def handle_webhook(*, payload: bytes, signature: str | None) -> str:
    """Verify a delivery with Stripe's signature scheme and process it. Returns an outcome label.

    Raises InvalidWebhookError; any other exception means "try again later" (500).
    """
    secret = stripe_client.webhook_secret()
    if not secret:
        raise InvalidWebhookError("No webhook secret is configured.")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, tolerance=300)
        event = json.loads(payload)
        event_id, event_type = event["id"], event["type"]
        data_object = event["data"]["object"]
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InvalidWebhookError(str(exc)) from exc
    if (
        not isinstance(data_object, dict)
        or not isinstance(event_id, str)
        or not isinstance(event_type, str)
        or not 0 < len(event_id) <= 255
        or len(event_type) > 100
        or _unstorable(event)  # Stripe never sends one
    ):
        raise InvalidWebhookError("Malformed event.")
    if event_type == "invoice.paid" and not StripeEvent.objects.filter(event_id=event_id).exists():
        # Before any lock is taken: ask Stripe which PaymentIntent paid the invoice when the event does not say,
        # so a refund made later in Stripe's dashboard finds the payment.
        data_object = _with_invoice_payment_intent(data_object)
    return process_event(event_id=event_id, event_type=event_type, data_object=data_object, payload=event)


def process_event(*, event_id: str, event_type: str, data_object: dict, payload: dict) -> str:
    # One transaction: if handling fails, the event row goes too and Stripe's retry runs it again.
    payment_intent_id = _payment_intent_id(data_object) or _invoice_payment_intent_id(data_object)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=event_id, type=event_type, payload=payload, stripe_payment_intent_id=payment_intent_id
                )
        except IntegrityError:
            # A repeat still gets a 2xx, or Stripe keeps retrying it for days.
            return "duplicate"
        order, outcome = _dispatch(event_type, data_object, event_id)
        if event_type in PAYMENT_EVENTS:
            _catch_up_on_earlier_events(payment_intent_id)
        record.order = order
        record.outcome = outcome
        record.save(update_fields=["order", "outcome"])
    return outcome


# Events that put a payment in the ledger, and events about a payment that Stripe may deliver before it (its
# deliveries are not ordered, and are retried for days after an outage).
PAYMENT_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded", "invoice.paid")
ABOUT_A_PAYMENT = ("charge.refunded", "refund.failed", "charge.dispute.created")


def _catch_up_on_earlier_events(payment_intent_id: str) -> None:
    """A refund made in Stripe's dashboard or a dispute reported before its payment reached the ledger found no
    payment and changed nothing; now that the payment is there, act on it, in the same transaction."""
    if not payment_intent_id:
        return
    # An index lookup (the PaymentIntent is stored in its own indexed column when the event is recorded).
    early = StripeEvent.objects.filter(
        stripe_payment_intent_id=payment_intent_id, type__in=ABOUT_A_PAYMENT, order__isnull=True
    ).order_by("received_at", "pk")
    for event in early:
        order, outcome = _dispatch(event.type, event.payload["data"]["object"], event.event_id)
        if order is not None:
            event.order, event.outcome = order, f"{outcome} (once its payment arrived)"
            event.save(update_fields=["order", "outcome"])


def _order_for_session(obj: dict) -> Order | None:
    metadata = obj.get("metadata")
    reference = obj.get("client_reference_id") or (metadata.get("order_reference") if isinstance(metadata, dict) else None)
    if not isinstance(reference, str) or not reference:
        return None
    return Order.objects.filter(reference=reference).first()


def _text(obj: dict, key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) and len(value) <= 255 else ""


def _amount(obj: dict, key: str) -> int | None:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _payment_intent_id(obj: dict) -> str:
    value = obj.get("payment_intent")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and len(value) <= 255 else ""


def _session_payment(obj: dict, event_id: str) -> ReceivedPayment:
    session_id = _text(obj, "id")
    local = session_id.startswith("cs_local_") and stripe_client.is_test_payment_mode()
    return ReceivedPayment(
        source=Payment.Source.LOCAL if local else Payment.Source.CHECKOUT,
        amount_cents=_amount(obj, "amount_total"),
        currency=_text(obj, "currency"),
        payment_intent_id=_payment_intent_id(obj),
        checkout_session_id=session_id,
        event_id=event_id,
    )


def _dispatch(event_type: str, obj: dict, event_id: str) -> tuple[Order | None, str]:
    if event_type.startswith("checkout.session."):
        return _dispatch_session(event_type, obj, event_id)
    if event_type.startswith("invoice."):
        return _dispatch_invoice(event_type, obj, event_id)
    if event_type == "charge.refunded":
        amount = _amount(obj, "amount_refunded")
        if amount is None:
            return None, "ignored"
        order = record_stripe_refund(payment_intent_id=_payment_intent_id(obj), amount_refunded_cents=amount)
        if order is None:
            logger.info("charge.refunded for %s changed nothing (unknown payment, or recorded already)", _payment_intent_id(obj))
            return None, "ignored"
        send_seat_refund_rests(order=order)
        return order, "refund recorded"
    if event_type == "refund.failed":
        amount = _amount(obj, "amount")
        if amount is None:
            return None, "ignored"
        order = record_failed_refund(
            stripe_refund_id=_text(obj, "id"), payment_intent_id=_payment_intent_id(obj), amount_cents=amount,
            ledger_part=stripe_client.ledger_part_of(obj.get("metadata")),
            failure_reason=_text(obj, "failure_reason"),
        )
        return (order, "refund failure recorded") if order is not None else (None, "unknown payment")
    if event_type == "charge.dispute.created":
        order = record_dispute(
            dispute_id=_text(obj, "id"), payment_intent_id=_payment_intent_id(obj),
            amount_cents=_amount(obj, "amount"), reason=_text(obj, "reason"),
        )
        if order is None:
            logger.warning("Dispute %s on an unknown payment %s", obj.get("id"), _payment_intent_id(obj))
            return None, "unknown payment"
        return order, "dispute flagged"
    return None, "ignored"


def _dispatch_session(event_type: str, obj: dict, event_id: str) -> tuple[Order | None, str]:
    order = _order_for_session(obj)
    if order is None:
        logger.warning("Stripe %s for an unknown order: %s", event_type, obj.get("client_reference_id"))
        return None, "unknown order"
    session_id = _text(obj, "id")
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        payment = _session_payment(obj, event_id)
        if event_type == "checkout.session.completed" and obj.get("payment_status") not in ("paid", "no_payment_required"):
            order = mark_processing(order=order, payment=payment)
            return order, f"order {order.status}"
        order = fulfil_order(order=order, payment=payment)
        return order, f"order {order.status}" + (" (payment needs review)" if order.payment_needs_review else "")
    if event_type == "checkout.session.async_payment_failed":
        return order, "failed" if fail_order(order=order, checkout_session_id=session_id) else "ignored"
    if event_type == "checkout.session.expired":
        changed = expire_order(order=order, checkout_session_id=session_id)
        return order, "expired" if changed else "ignored"
    return order, "ignored"


def _order_for_invoice(obj: dict) -> Order | None:
    metadata = obj.get("metadata")
    reference = metadata.get("order_reference") if isinstance(metadata, dict) else None
    if isinstance(reference, str) and reference:
        order = Order.objects.filter(reference=reference).first()
        if order is not None:
            return order
    invoice_id = _text(obj, "id")
    return Order.objects.filter(stripe_invoice_id=invoice_id).first() if invoice_id else None


def _invoice_payment_intent_id(obj: dict) -> str:
    """The PaymentIntent behind a paid invoice, when the event carries its (expanded) payments."""
    payments = obj.get("payments")
    rows = payments.get("data") if isinstance(payments, dict) else None
    for row in rows if isinstance(rows, list) else []:
        payment = row.get("payment") if isinstance(row, dict) else None
        if isinstance(payment, dict) and row.get("status") == "paid":
            intent = _payment_intent_id(payment)
            if intent:
                return intent
    return ""


def _with_invoice_payment_intent(obj: dict) -> dict:
    """The invoice, with the PaymentIntent that paid it when Stripe knows one (not for a cheque or a test invoice).

    Raises stripe_client.PaymentProviderError: the delivery then fails and Stripe sends it again later.
    """
    invoice_id = _text(obj, "id")
    if _invoice_payment_intent_id(obj) or not invoice_id or stripe_client.is_local_invoice(invoice_id):
        return obj
    if obj.get("paid_out_of_band") is True or not PaymentRequest.objects.filter(provider_id=invoice_id).exists():
        return obj  # a cheque has no PaymentIntent; an invoice the site did not issue is left to staff review
    intent = stripe_client.invoice_payment_intent_id(invoice_id)
    if not intent:
        return obj
    return {**obj, "payments": {"data": [{"status": "paid", "payment": {"type": "payment_intent", "payment_intent": intent}}]}}


def _dispatch_invoice(event_type: str, obj: dict, event_id: str) -> tuple[Order | None, str]:
    if event_type not in ("invoice.paid", "invoice.voided", "invoice.marked_uncollectible"):
        return None, "ignored"
    order = _order_for_invoice(obj)
    if order is None or order.payment_method != Order.PaymentMethod.INVOICE:
        logger.warning("Stripe %s for an unknown order: invoice %s", event_type, obj.get("id"))
        return None, "unknown order"
    invoice_id = _text(obj, "id")
    if event_type == "invoice.paid":
        local = stripe_client.is_local_invoice(invoice_id) and stripe_client.is_test_payment_mode()
        out_of_band = obj.get("paid_out_of_band") is True
        payment = ReceivedPayment(
            source=Payment.Source.LOCAL if local else Payment.Source.OUT_OF_BAND if out_of_band else Payment.Source.INVOICE,
            amount_cents=_amount(obj, "amount_paid"),
            currency=_text(obj, "currency"),
            payment_intent_id=_invoice_payment_intent_id(obj),
            invoice_id=invoice_id,
            event_id=event_id,
        )
        order = record_invoice_paid(order=order, payment=payment, paid_out_of_band=out_of_band)
        return order, f"order {order.status}" + (" (payment needs review)" if order.payment_needs_review else "")
    status = Order.InvoiceStatus.VOID if event_type == "invoice.voided" else Order.InvoiceStatus.UNCOLLECTIBLE
    changed = close_invoice_order(order=order, invoice_id=invoice_id, invoice_status=status)
    return order, "cancelled" if changed else "ignored"
