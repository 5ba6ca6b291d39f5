"""Taking payment: Stripe Checkout and invoices, the success and cancel pages, local test payments and the webhook."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from registrations.errors import (
    RegistrationError,
)
from registrations.selectors.ledger import invoice_amount_cents
from registrations.services.checkout import (
    open_checkout_session,
    session_payment,
    start_checkout,
)
from registrations.services.fulfilment import (
    cancel_order,
    fulfil_order,
    mark_processing,
)
from registrations.services.invoices import (
    start_invoice,
)

from ..models import Order
from ..stripe import client as stripe_client
from ..stripe import payments as stripe_payments
from ..stripe import webhooks
from .common import INVOICE_DOWN_MESSAGE, PAYMENT_DOWN_MESSAGE, PAYMENT_IN_PROGRESS_MESSAGE, _order_or_404

logger = logging.getLogger(__name__)


def _go_to_checkout(request, order: Order, *, just_placed: bool = False) -> HttpResponse:
    if order.payment_method == Order.PaymentMethod.INVOICE:
        return _send_invoice(request, order)
    try:
        url = (open_checkout_session if just_placed else start_checkout)(order=order)
    except stripe_client.PaymentProviderError as exc:
        if exc.in_progress:  # a press before this one is still opening the same payment page at Stripe
            messages.info(request, PAYMENT_IN_PROGRESS_MESSAGE)
        else:
            messages.error(request, PAYMENT_DOWN_MESSAGE)
        return redirect(order.get_absolute_url())
    except RegistrationError as exc:
        messages.error(request, str(exc))
        return redirect(order.get_absolute_url())
    return HttpResponseRedirect(url)  # an address already: redirect() would first try it as a URL name


def _send_invoice(request, order: Order) -> HttpResponse:
    try:
        order = start_invoice(order=order)
    except stripe_client.PaymentProviderError:
        messages.error(request, INVOICE_DOWN_MESSAGE)
        return redirect(order.get_absolute_url())
    except RegistrationError as exc:
        messages.error(request, str(exc))
        return redirect(order.get_absolute_url())
    messages.success(
        request,
        f"Invoice {order.invoice_number} is on its way to {order.billing_email}. Your seats are held until it is due.",
    )
    return redirect(order.get_absolute_url())


@require_POST
def order_pay(request: HttpRequest, token: str) -> HttpResponse:
    order = _order_or_404(token)
    return _go_to_checkout(request, order)


@require_GET
def checkout_success(request: HttpRequest, token: str) -> HttpResponse:
    """Stripe's success redirect: confirm with Stripe directly so a slow webhook never shows 'pending'."""
    order = _order_or_404(token)
    session_id = request.GET.get("session_id", "")
    if (
        order.status in (Order.Status.PENDING, Order.Status.PROCESSING, Order.Status.EXPIRED, Order.Status.CANCELLED)
        and session_id
        and session_id == order.stripe_checkout_session_id
        and not stripe_client.is_test_payment_mode()
    ):
        try:
            session = stripe_payments.retrieve_session_payment(session_id)
        except stripe_client.PaymentProviderError:
            session = None
        if session and session.client_reference_id == order.reference:
            if session.payment_status in ("paid", "no_payment_required"):
                fulfil_order(order=order, payment=session_payment(session))
            elif session.status == "complete":
                mark_processing(order=order, payment=session_payment(session))
    return redirect(order.get_absolute_url())


@require_GET
def checkout_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer left Stripe Checkout: free the seats now and bring back what they typed."""
    order = _order_or_404(token)
    if cancel_order(order=order):
        messages.info(request, "Payment cancelled and your seats released. Your details are below if you want to try again.")
        order.refresh_from_db()
    if order.status in (Order.Status.CANCELLED, Order.Status.EXPIRED) and not order.parent_id:
        return redirect(f"{reverse('registrations:register', kwargs={'slug': order.workshop.slug})}?from={order.token}")
    return redirect(order.get_absolute_url())


def test_payment(request: HttpRequest, token: str) -> HttpResponse:
    """Stand-in for Stripe's payment page when no Stripe key is configured (a fresh machine)."""
    if not stripe_client.is_test_payment_mode():
        raise Http404("Test payments are off")
    order = _order_or_404(token)
    if order.status != Order.Status.PENDING:
        return redirect(order.get_absolute_url())
    if request.method == "POST":
        # Fulfil through the very webhook path a real Stripe payment takes.
        payload, signature = stripe_client.signed_test_event(
            event_type="checkout.session.completed",
            data_object={
                "id": order.stripe_checkout_session_id,
                "object": "checkout.session",
                "client_reference_id": order.reference,
                "metadata": {"order_reference": order.reference},
                "payment_status": "paid",
                "status": "complete",
                "amount_total": order.total_cents,
                "currency": settings.STRIPE_CURRENCY,
                "payment_intent": f"pi_local_{order.reference}",
            },
        )
        webhooks.handle_webhook(payload=payload, signature=signature)
        messages.success(request, "Test payment received.")
        return redirect(order.get_absolute_url())
    return render(request, "registrations/test_payment.html", {"order": order, "workshop": order.workshop})


def test_invoice(request: HttpRequest, token: str) -> HttpResponse:
    """Stand-in for Stripe's hosted invoice page when no Stripe key is configured."""
    if not stripe_client.is_test_payment_mode():
        raise Http404("Test invoices are off")
    order = _order_or_404(token)
    if not stripe_client.is_local_invoice(order.stripe_invoice_id):
        raise Http404("No test invoice")
    if request.method == "POST" and order.status == Order.Status.PENDING:
        # Paid through the very webhook path Stripe's `invoice.paid` takes.
        payload, signature = stripe_client.signed_test_event(
            event_type="invoice.paid",
            data_object={
                "id": order.stripe_invoice_id,
                "object": "invoice",
                "status": "paid",
                "number": order.invoice_number,
                "metadata": {"order_reference": order.reference},
                "amount_paid": invoice_amount_cents(order=order),
                "currency": settings.STRIPE_CURRENCY,
            },
        )
        webhooks.handle_webhook(payload=payload, signature=signature)
        messages.success(request, "Test invoice paid.")
        return redirect(order.get_absolute_url())
    if request.method == "POST":
        return redirect(order.get_absolute_url())
    return render(
        request,
        "registrations/test_invoice.html",
        {"order": order, "workshop": order.workshop, "invoice_amount_cents": invoice_amount_cents(order=order)},
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        payload = request.body
    except RequestDataTooBig:
        # Larger than DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): no Stripe event is; a retry would not change it.
        logger.warning("Rejected a Stripe webhook: body over the upload limit")
        return HttpResponseBadRequest("request body too large", content_type="text/plain")
    try:
        outcome = webhooks.handle_webhook(payload=payload, signature=request.headers.get("Stripe-Signature"))
    except webhooks.InvalidWebhookError as exc:
        logger.warning("Rejected a Stripe webhook: %s", exc)
        return HttpResponseBadRequest("invalid webhook", content_type="text/plain")
    except Exception:
        # Nothing was recorded (one transaction), so Stripe's redelivery will process it afresh.
        logger.exception("Stripe webhook processing failed; Stripe will retry")
        return HttpResponse("processing failed, please retry", status=500, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")
