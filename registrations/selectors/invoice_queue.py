"""Unpaid invoices that need a reminder, have lapsed, or must be voided."""

from datetime import datetime, timedelta

from django.db.models import QuerySet

from ..models import (
    Order,
)


def invoice_orders_due_reminder(*, now: datetime, days_before: int) -> QuerySet[Order]:
    """Sent, unpaid invoices whose seat hold lapses within `days_before` days and that had no reminder yet."""
    return Order.objects.filter(
        payment_method=Order.PaymentMethod.INVOICE,
        status=Order.Status.PENDING,
        invoice_status=Order.InvoiceStatus.OPEN,
        invoice_reminder_sent_at__isnull=True,
        hold_expires_at__gt=now,
        hold_expires_at__lte=now + timedelta(days=days_before),
    ).order_by("hold_expires_at", "pk")


def invoice_orders_lapsed(*, now: datetime) -> QuerySet[Order]:
    """Invoice orders still open for payment whose seat hold has lapsed (their seats already count as free)."""
    return Order.objects.filter(
        payment_method=Order.PaymentMethod.INVOICE, status=Order.Status.PENDING, hold_expires_at__lte=now
    ).order_by("hold_expires_at", "pk")


def invoices_to_void() -> QuerySet[Order]:
    """Closed orders whose Stripe invoice can still be paid."""
    return Order.objects.filter(
        status__in=(Order.Status.EXPIRED, Order.Status.CANCELLED, Order.Status.FAILED),
        invoice_status=Order.InvoiceStatus.OPEN,
    ).exclude(stripe_invoice_id="").order_by("pk")
