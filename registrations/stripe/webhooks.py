"""Stripe webhook handling: verify, record once per event id, then act on the order."""

import json
import logging

import stripe
from django.db import IntegrityError, transaction

from registrations.services.fulfilment import (
    expire_order,
    fail_order,
    fulfil_order,
    mark_processing,
)
from registrations.services.invoices import close_invoice_order, record_invoice_paid
from registrations.services.refunds import record_stripe_refund

from ..models import Order, StripeEvent
from . import client as stripe_client

logger = logging.getLogger(__name__)


class InvalidWebhookError(Exception):
    """Bad or missing signature, stale timestamp or unreadable body: answer 400."""


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
        or "\\u0000" in payload.decode("utf-8")  # PostgreSQL's JSON cannot store NUL; Stripe never sends it
    ):
        raise InvalidWebhookError("Malformed event.")
    return process_event(event_id=event_id, event_type=event_type, data_object=data_object, payload=event)


def process_event(*, event_id: str, event_type: str, data_object: dict, payload: dict) -> str:
    # One transaction: if handling fails, the event row goes too and Stripe's retry runs it again.
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(event_id=event_id, type=event_type, payload=payload)
        except IntegrityError:
            # A repeat still gets a 2xx, or Stripe keeps retrying it for days.
            return "duplicate"
        order, outcome = _dispatch(event_type, data_object)
        record.order = order
        record.outcome = outcome
        record.save(update_fields=["order", "outcome"])
    return outcome


def _order_for_session(obj: dict) -> Order | None:
    metadata = obj.get("metadata")
    reference = obj.get("client_reference_id") or (metadata.get("order_reference") if isinstance(metadata, dict) else None)
    if not isinstance(reference, str) or not reference:
        return None
    return Order.objects.filter(reference=reference).first()


def _text(obj: dict, key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) and len(value) <= 255 else ""


def _payment_intent_id(obj: dict) -> str:
    value = obj.get("payment_intent")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and len(value) <= 255 else ""


def _dispatch(event_type: str, obj: dict) -> tuple[Order | None, str]:
    if event_type.startswith("checkout.session."):
        order = _order_for_session(obj)
        if order is None:
            logger.warning("Stripe %s for an unknown order: %s", event_type, obj.get("client_reference_id"))
            return None, "unknown order"
        session_id = _text(obj, "id")
        if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if event_type == "checkout.session.completed" and obj.get("payment_status") not in ("paid", "no_payment_required"):
                mark_processing(order=order, checkout_session_id=session_id)
                return order, "processing"
            order = fulfil_order(
                order=order, payment_intent_id=_payment_intent_id(obj), checkout_session_id=session_id
            )
            return order, f"order {order.status}"
        if event_type == "checkout.session.async_payment_failed":
            return order, "failed" if fail_order(order=order) else "ignored"
        if event_type == "checkout.session.expired":
            changed = expire_order(order=order, checkout_session_id=session_id)
            return order, "expired" if changed else "ignored"
        return order, "ignored"
    if event_type.startswith("invoice."):
        return _dispatch_invoice(event_type, obj)
    if event_type == "charge.refunded":
        payment_intent = _payment_intent_id(obj)
        order = Order.objects.filter(stripe_payment_intent_id=payment_intent).first() if payment_intent else None
        if order is None:
            logger.warning("charge.refunded for an unknown payment %s", payment_intent)
            return None, "unknown order"
        if order.status == Order.Status.MERGED and order.parent_id:
            # Seats added later were paid separately; their refunds belong to the order they joined.
            order = order.parent
        amount = obj.get("amount_refunded")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            return order, "ignored"
        changed = record_stripe_refund(order=order, amount_refunded_cents=amount, payment_intent_id=payment_intent)
        return order, "refund recorded" if changed else "ignored"
    return None, "ignored"


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
    """The PaymentIntent behind a paid invoice, when the event carries its (expanded) stripe_client."""
    payments = obj.get("payments")
    rows = payments.get("data") if isinstance(payments, dict) else None
    for row in rows if isinstance(rows, list) else []:
        payment = row.get("payment") if isinstance(row, dict) else None
        if isinstance(payment, dict) and row.get("status") == "paid":
            intent = _payment_intent_id(payment)
            if intent:
                return intent
    return ""


def _dispatch_invoice(event_type: str, obj: dict) -> tuple[Order | None, str]:
    if event_type not in ("invoice.paid", "invoice.voided", "invoice.marked_uncollectible"):
        return None, "ignored"
    order = _order_for_invoice(obj)
    if order is None or order.payment_method != Order.PaymentMethod.INVOICE:
        logger.warning("Stripe %s for an unknown order: invoice %s", event_type, obj.get("id"))
        return None, "unknown order"
    invoice_id = _text(obj, "id")
    if event_type == "invoice.paid":
        order = record_invoice_paid(
            order=order, invoice_id=invoice_id, payment_intent_id=_invoice_payment_intent_id(obj)
        )
        return order, f"order {order.status}"
    status = Order.InvoiceStatus.VOID if event_type == "invoice.voided" else Order.InvoiceStatus.UNCOLLECTIBLE
    changed = close_invoice_order(order=order, invoice_id=invoice_id, invoice_status=status)
    return order, "cancelled" if changed else "ignored"
