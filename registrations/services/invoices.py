"""Paying by invoice: billing details, the Stripe Invoice, its payment, reminders and lapsed holds."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from registrations.selectors.availability import invoice_seat_allowance, invoice_seats_held, open_invoice_request
from registrations.selectors.invoice_queue import (
    invoice_orders_due_reminder,
    invoice_orders_lapsed,
    invoices_to_void,
)

from .. import emails
from ..errors import InvoiceError, InvoiceHoldError, OrderNotPayableError, RegistrationError
from ..models import (
    Order,
    Payment,
    PaymentRequest,
)
from ..stripe import client as stripe_client
from .checkout import addition_label, place_order, renew_hold
from .fulfilment import close_order, fulfil_order
from .payments import ReceivedPayment

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BillingDetails:
    """Who receives and pays the invoice, and the purchase-order number to print on it."""

    name: str
    email: str
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""
    country: str = "US"
    po_number: str = ""


def invoice_hold_days() -> int:
    return getattr(settings, "INVOICE_HOLD_DAYS", 14)


def invoice_reminder_days() -> int:
    return getattr(settings, "INVOICE_REMINDER_DAYS", 3)


def invoice_hold_duration() -> timedelta:
    return timedelta(days=invoice_hold_days())


def apply_billing(order: Order, billing: BillingDetails) -> None:
    order.payment_method = Order.PaymentMethod.INVOICE
    order.billing_name = billing.name.strip()
    order.billing_email = billing.email.strip()
    order.billing_line1 = " ".join(billing.line1.split())
    order.billing_line2 = billing.line2.strip()
    order.billing_city = billing.city.strip()
    order.billing_state = billing.state.strip()
    order.billing_postal_code = billing.postal_code.strip()
    order.billing_country = (billing.country.strip() or "US").upper()
    order.po_number = billing.po_number.strip()


def place_invoice_order(*, billing: BillingDetails, now: datetime | None = None, **order_fields) -> Order:
    """place_order for an organisation paying by invoice: the seats are held for INVOICE_HOLD_DAYS (default 14),
    within the rules that keep invoice requests from taking the workshop off sale (check_invoice_hold).

    Takes place_order's keyword arguments, and raises what it raises, and InvoiceHoldError.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # One transaction with place_order's, so its workshop lock lasts until the longer hold is saved;
        # a refused request rolls the order back with it.
        order = place_order(now=now, **order_fields)
        check_invoice_hold(order=order, billing=billing, now=now)
        apply_billing(order, billing)
        order.hold_expires_at = now + invoice_hold_duration()
        order.save()
    return order


def check_invoice_hold(*, order: Order, billing: BillingDetails, now: datetime) -> None:
    """An unpaid invoice holds seats for days, so invoices together may hold only the workshop's share of its
    seats (invoice_hold_percent of capacity), and each billing address one request at a time.

    Called with the workshop row locked, with `order` placed but not yet an invoice order.
    Raises InvoiceHoldError.
    """
    workshop = order.workshop
    allowance = invoice_seat_allowance(workshop)
    available = max(allowance - invoice_seats_held(workshop_id=workshop.pk, now=now, exclude_order_id=order.pk), 0)
    if order.seat_count > available:
        if allowance == 0:
            raise InvoiceHoldError("Paying by invoice is not available for this workshop. Please pay by card, or contact us.")
        raise InvoiceHoldError(
            f"Unpaid invoices can hold at most {allowance} of this workshop's {workshop.capacity} seats, and "
            f"{'only ' + str(available) + ' are' if available else 'none are'} left for invoices just now. "
            "Please pay by card, choose fewer seats, or contact us and we will arrange it."
        )
    if order.kind == Order.Kind.PURCHASE and open_invoice_request(
        workshop_id=workshop.pk, line1=billing.line1, postal_code=billing.postal_code, now=now,
    ):
        raise InvoiceHoldError(
            "There is already an unpaid invoice request for this workshop to this billing address. "
            "Please pay that invoice first (or let it lapse), pay by card, or contact us."
        )


def _invoice_lines(order: Order) -> list[stripe_client.InvoiceLine]:
    """Invoice items adding up to exactly the order's total."""
    if order.kind == Order.Kind.ADDITION:
        label = f"{order.workshop.title}: {addition_label(order)}, order {order.parent.reference}"
        return [stripe_client.InvoiceLine(description=label, unit_amount_cents=order.total_cents)]
    price = "team price" if order.tier_min_seats > 1 else "per participant"
    lines = [
        stripe_client.InvoiceLine(
            description=f"{order.workshop.title}: seat ({price}), order {order.reference}. {order.workshop.schedule}",
            quantity=order.seat_count,
            unit_amount_cents=order.unit_price_cents,
        )
    ]
    discount = order.unit_price_cents * order.seat_count - order.total_cents
    if discount > 0:
        code = f" (code {order.voucher.code})" if order.voucher_id else ""
        lines.append(stripe_client.InvoiceLine(description=f"Discount{code}", amount_cents=-discount))
    return lines


def start_invoice(*, order: Order, now: datetime | None = None) -> Order:
    """Create, finalize and send the Stripe invoice for a pending invoice order.

    A retry resumes where a failed attempt stopped (each step is stored, and has its own
    idempotency key); an invoice already sent is not sent again. A lapsed hold is renewed
    for INVOICE_HOLD_DAYS if the seats are still free.
    Raises OrderNotPayableError, NotEnoughSeatsError, stripe_client.PaymentProviderError.
    """
    now = now or timezone.now()
    order.refresh_from_db()
    if order.status != Order.Status.PENDING or order.payment_method != Order.PaymentMethod.INVOICE:
        raise OrderNotPayableError("This order can no longer be paid.")
    if order.invoice_status == Order.InvoiceStatus.OPEN and order.stripe_invoice_url:
        return order
    if order.hold_expires_at <= now:
        # Never past INVOICE_HOLD_DAYS after the request was made (renew_hold's bound).
        order = renew_hold(order=order, now=now, duration=invoice_hold_duration())
    Order.objects.filter(pk=order.pk).update(checkout_attempts=F("checkout_attempts") + 1)
    title = order.workshop.title if order.kind == Order.Kind.PURCHASE else f"{order.workshop.title} (seats added)"
    try:
        invoice = stripe_client.issue_invoice(
            order=order,
            lines=_invoice_lines(order),
            days_until_due=invoice_hold_days(),
            description=f"{title}, order {order.reference}. {order.workshop.schedule}. Seats are held until this invoice is due.",
            customer_id=order.stripe_customer_id,
            invoice_id=order.stripe_invoice_id,
        )
    except stripe_client.InvoiceStepError as exc:
        if exc.invoice_id:
            _remember_invoice(order=order, invoice_id=exc.invoice_id)
        # Keep what was created, so the retry continues with the same customer and invoice.
        Order.objects.filter(pk=order.pk).update(
            stripe_customer_id=exc.customer_id or order.stripe_customer_id,
            stripe_invoice_id=exc.invoice_id or order.stripe_invoice_id,
            invoice_status=Order.InvoiceStatus.DRAFT if exc.invoice_id else order.invoice_status,
            updated_at=now,
        )
        raise
    _remember_invoice(order=order, invoice_id=invoice.id)
    due_at = datetime.fromtimestamp(invoice.due_date, tz=UTC) if invoice.due_date else order.hold_expires_at
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        order.stripe_customer_id = invoice.customer_id
        order.stripe_invoice_id = invoice.id
        order.invoice_number = invoice.number
        order.invoice_due_at = due_at
        order.stripe_invoice_url = invoice.hosted_invoice_url
        order.is_test_payment = stripe_client.is_test_payment_mode()
        # A webhook may already have recorded a payment; never move it back to "open".
        if order.invoice_status in ("", Order.InvoiceStatus.DRAFT) and invoice.status in Order.InvoiceStatus.values:
            order.invoice_status = invoice.status
        order.save()
        if order.status == Order.Status.PENDING:
            emails.send_invoice_issued(order_id=order.pk)
    return order


def _remember_invoice(*, order: Order, invoice_id: str) -> None:
    """Keep every invoice the site created, with what it was issued for: the ledger accepts a payment only from
    one of them, for that amount, and the order page shows that amount however the order changes later."""
    PaymentRequest.objects.get_or_create(
        provider_id=invoice_id,
        defaults={
            "order": order, "kind": PaymentRequest.Kind.INVOICE,
            "amount_cents": order.total_cents, "currency": settings.STRIPE_CURRENCY,
        },
    )


def record_invoice_paid(*, order: Order, payment: ReceivedPayment, paid_out_of_band: bool = False) -> Order:
    """An invoice was paid (on Stripe's page, or out of band): record the payment and fulfil the order once.

    An invoice the site did not issue for this order, or paid for another amount, pays nothing and is kept
    for staff review (fulfil_order). A payment after the hold lapsed follows fulfil_order's rule: accepted
    while the seats are still free, returned otherwise. Repeats change nothing.
    """
    with transaction.atomic():
        # fulfil_order takes the workshop and order locks first, in the usual order.
        order = fulfil_order(order=order, payment=payment)
        # The invoice counts as paid once its payment is in the ledger and not left for review.
        if Payment.objects.filter(order=order, stripe_invoice_id=payment.invoice_id).exclude(status=Payment.Status.REVIEW).exists():
            changes = {"invoice_status": Order.InvoiceStatus.PAID, "updated_at": timezone.now()}
            if paid_out_of_band:
                changes["invoice_paid_out_of_band"] = True
            Order.objects.filter(pk=order.pk).update(**changes)
    order.refresh_from_db()
    return order


def close_invoice_order(*, order: Order, invoice_id: str, invoice_status: str) -> bool:
    """The invoice was voided or written off in Stripe: close the order and free its seats.

    An event about some other invoice than the order's own changes nothing. Returns
    whether the order was closed.
    """
    if order.stripe_invoice_id and invoice_id and order.stripe_invoice_id != invoice_id:
        return False
    with transaction.atomic():
        changed = close_order(order=order, status=Order.Status.CANCELLED)
        Order.objects.filter(pk=order.pk).exclude(invoice_status=Order.InvoiceStatus.PAID).update(
            invoice_status=invoice_status, updated_at=timezone.now()
        )
    return changed


def mark_invoice_paid_out_of_band(*, order: Order) -> Order:
    """Staff received the money outside Stripe (a cheque): mark the invoice paid in Stripe and fulfil the order.

    The `invoice.paid` event Stripe sends afterwards finds the order paid and changes nothing.
    Raises InvoiceError, stripe_client.PaymentProviderError (e.g. the invoice was voided).
    """
    order.refresh_from_db()
    if order.payment_method != Order.PaymentMethod.INVOICE or not order.stripe_invoice_id:
        raise InvoiceError(f"{order.reference} has no invoice.")
    if order.status not in (Order.Status.PENDING, Order.Status.EXPIRED) or order.invoice_status == Order.InvoiceStatus.PAID:
        raise InvoiceError(f"{order.reference} is {order.get_status_display().lower()}; only an unpaid invoice can be marked paid.")
    request = PaymentRequest.objects.filter(order=order, provider_id=order.stripe_invoice_id).first()
    if request is None:
        raise InvoiceError(f"{order.reference}'s invoice was not issued by this site, so it cannot be marked paid here.")
    stripe_client.pay_invoice_out_of_band(order.stripe_invoice_id, idempotency_key=f"invoice-paid-out-of-band-{order.reference}")
    payment = ReceivedPayment(
        source=Payment.Source.LOCAL if stripe_client.is_local_invoice(request.provider_id) else Payment.Source.OUT_OF_BAND,
        amount_cents=request.amount_cents,
        currency=request.currency,
        invoice_id=request.provider_id,
    )
    return record_invoice_paid(order=order, payment=payment, paid_out_of_band=True)


def set_po_number(*, order: Order, po_number: str) -> Order:
    """The buyer adds, changes or clears the purchase-order number printed on the receipt.

    Raises RegistrationError for an order that was closed unpaid.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in (Order.Status.PENDING, Order.Status.PROCESSING, Order.Status.PAID):
            raise RegistrationError("This order is closed, so its purchase-order number can no longer change.")
        order.po_number = po_number.strip()
        order.save(update_fields=["po_number", "updated_at"])
    return order


@dataclass(frozen=True)
class InvoicesTidied:
    reminded: int
    lapsed: int
    voided: int


def _remind_invoice_once(*, order: Order, now: datetime) -> bool:
    with transaction.atomic():
        # The conditional update is the once-only guard: an overlapping run updates nothing and sends nothing.
        claimed = Order.objects.filter(
            pk=order.pk, status=Order.Status.PENDING, invoice_reminder_sent_at__isnull=True
        ).update(invoice_reminder_sent_at=now)
        if claimed:
            emails.send_invoice_reminder(order_id=order.pk)
    return bool(claimed)


def _lapse_invoice_order(*, order: Order, now: datetime) -> bool:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.PENDING or locked.hold_expires_at > now:
            return False
        if not close_order(order=locked, status=Order.Status.EXPIRED):
            return False
        emails.send_invoice_lapsed(order_id=locked.pk)
    return True


def tidy_invoices(*, now: datetime | None = None) -> InvoicesTidied:
    """Remind before an unpaid invoice's seat hold lapses, and close and void the ones that lapsed.

    The reminder goes out once, INVOICE_REMINDER_DAYS (default 3) days before. A lapsed
    hold already stopped counting against capacity; this closes the order, tells the buyer,
    and voids the invoice in Stripe so it can no longer be paid (retried on the next run
    if Stripe is down). Safe to run every few minutes. Raises nothing.
    """
    now = now or timezone.now()
    reminded = sum(
        _remind_invoice_once(order=order, now=now)
        for order in invoice_orders_due_reminder(now=now, days_before=invoice_reminder_days())
    )
    lapsed = sum(_lapse_invoice_order(order=order, now=now) for order in invoice_orders_lapsed(now=now))
    voided = 0
    for order in invoices_to_void():
        try:
            stripe_client.void_invoice(order.stripe_invoice_id, idempotency_key=f"invoice-void-{order.reference}")
        except stripe_client.PaymentProviderError:
            # Paid a moment ago (its webhook decides), or Stripe is down (the next run retries).
            logger.warning("Could not void invoice %s of %s yet", order.stripe_invoice_id, order.reference)
            continue
        voided += Order.objects.filter(pk=order.pk, invoice_status=Order.InvoiceStatus.OPEN).update(
            invoice_status=Order.InvoiceStatus.VOID, updated_at=now
        )
    return InvoicesTidied(reminded=reminded, lapsed=lapsed, voided=voided)
