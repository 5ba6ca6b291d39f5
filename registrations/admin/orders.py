"""Orders and refunds: the buyer's order with its seats, payments, refunds and invoice."""

from django.contrib import admin, messages
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from registrations.errors import (
    InvoiceError,
    RefundError,
)
from registrations.selectors.ledger import with_money
from registrations.services.invoices import mark_invoice_paid_out_of_band
from registrations.services.payments import clear_review
from registrations.services.refunds import refund_seats, return_refused_payments
from workshops.templatetags.workshop_tags import usd

from .. import emails, exports
from ..models import (
    Order,
    Payment,
    Refund,
    Seat,
)
from ..stripe import client as stripe_client
from .actions import (
    ACCESS_NEEDS_FIELDS,
    MARK_PAID_PERMISSION,
    REFUND_PERMISSION,
    MoneyActionPermissions,
    _order_page_link,
    can_see_access_needs,
    require_permission,
)


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    can_delete = False
    fields = ["position", "attendee_name", "attendee_email", "needs_captions", "needs_interpreter", "access_note", "status"]
    readonly_fields = ["position", "attendee_name", "attendee_email", "status"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if can_see_access_needs(request) else [f for f in fields if f not in ACCESS_NEEDS_FIELDS]


class PaymentInline(admin.TabularInline):
    """The order's own payments (seats added later list theirs on their own order)."""

    model = Payment
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ["received_at", "amount", "currency", "source", "status", "stripe_payment_intent_id",
              "stripe_checkout_session_id", "stripe_invoice_id", "refunded", "note"]
    readonly_fields = fields
    verbose_name_plural = "payments (the ledger)"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(refunded_cents=Sum("refund_parts__amount_cents", default=0))

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount")
    def amount(self, obj):
        return usd(obj.amount_cents)

    @admin.display(description="Refunded from it")
    def refunded(self, obj):
        return usd(getattr(obj, "refunded_cents", 0))


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "seat_count", "amount", "from_payments", "reason", "stripe_refund_id"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parts__payment__order")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount")
    def amount(self, obj):
        return usd(obj.amount_cents)

    @admin.display(description="From payment")
    def from_payments(self, obj):
        """Which payment each part came out of: the order's own, or a batch of seats added later."""
        return ", ".join(
            f"{usd(part.amount_cents)} of {part.payment.order.reference} ({part.payment.reference or part.payment.get_source_display()})"
            for part in obj.parts.all()
        ) or "–"


# Staff may correct the buyer's details and keep notes; everything else on an order is the record
# of what happened (prices, seats, payments) and changes only through the actions and services.
ORDER_EDITABLE_FIELDS = ("buyer_name", "buyer_email", "organisation", "role", "buyer_attends", "po_number", "staff_note")


@admin.register(Order)
class OrderAdmin(MoneyActionPermissions, admin.ModelAdmin):
    list_display = [
        "reference", "buyer_name", "organisation", "workshop", "seat_count", "total", "paid", "status", "needs_review", "created_at",
    ]
    list_filter = [
        "payment_needs_review", "status", "workshop", "payment_method", "invoice_status", "kind", "is_test_payment", "role",
    ]
    list_select_related = ["workshop", "parent"]
    search_fields = [
        "reference",
        "buyer_name",
        "buyer_email",
        "organisation",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "stripe_invoice_id",
        "invoice_number",
        "po_number",
        "seats__attendee_email",
        "seats__attendee_name",
    ]
    date_hierarchy = "created_at"
    inlines = [SeatInline, PaymentInline, RefundInline]
    actions = [
        "refund_whole_order", "resend_confirmation", "export_csv", "mark_invoice_paid_out_of_band", "mark_review_done",
    ]
    fields = [
        "reference",
        "workshop",
        "status",
        "payment_needs_review",
        "payment_review_note",
        "buyer_name",
        "buyer_email",
        "organisation",
        "role",
        "buyer_attends",
        "seat_count",
        "refunded_seat_count",
        "unit_price",
        "tier_min_seats",
        "voucher",
        "voucher_seat_count",
        "total",
        "money",
        "hold_expires_at",
        "is_test_payment",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "checkout_attempts",
        "paid_at",
        "closed_at",
        "confirmation_sent_at",
        "payment_method",
        "po_number",
        "billing_name",
        "billing_email",
        "billing_address",
        "stripe_customer_id",
        "stripe_invoice_id",
        "invoice_number",
        "invoice_status",
        "invoice_due_at",
        "hosted_invoice_page",
        "invoice_paid_out_of_band",
        "invoice_reminder_sent_at",
        "kind",
        "parent_order",
        "priced_for_seat_count",
        "added_seats",
        "staff_note",
        "seat_changes",
        "token",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [f for f in fields if f not in ORDER_EDITABLE_FIELDS]

    def has_add_permission(self, request):
        return False  # orders come from the public registration, which holds seats properly

    def get_queryset(self, request):
        return with_money(super().get_queryset(request))

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Unit price", ordering="unit_price_cents")
    def unit_price(self, obj):
        return usd(obj.unit_price_cents)

    @admin.display(description="Total", ordering="total_cents")
    def total(self, obj):
        # Seats that joined an order are in that order's total (and seats); counting them here too would count them twice.
        if obj.status == Order.Status.MERGED:
            return f"in {obj.parent.reference}" if obj.parent_id else "–"
        return usd(obj.total_cents)

    @admin.display(description="Attendee changes")
    def seat_changes(self, obj):
        return _order_page_link(obj)

    @admin.display(description="Paid (ledger)", ordering="ledger_paid_cents")
    def paid(self, obj):
        if obj.status == Order.Status.MERGED:
            return f"in {obj.parent.reference}" if obj.parent_id else "–"
        return usd(obj.ledger_paid_cents - obj.ledger_refunded_cents)

    @admin.display(description="Payment needs review", boolean=True, ordering="payment_needs_review")
    def needs_review(self, obj):
        return obj.payment_needs_review

    @admin.display(description="Money (from the payment ledger)")
    def money(self, obj):
        return format_html(
            "Paid {} · refunded {} · net {}{}",
            usd(obj.ledger_paid_cents),
            usd(obj.ledger_refunded_cents),
            usd(obj.ledger_paid_cents - obj.ledger_refunded_cents),
            format_html(" · payments not accepted {}", usd(obj.ledger_returned_cents)) if obj.ledger_returned_cents else "",
        )

    @admin.action(description="Mark payment review done", permissions=["change"])
    def mark_review_done(self, request, queryset):
        require_permission(request, "registrations.change_order")
        done = sum(clear_review(order=order) for order in queryset)
        self.message_user(request, f"Cleared 'payment needs review' on {done} order(s).", messages.SUCCESS)

    @admin.action(description="Refund the whole order through Stripe", permissions=["refund"])
    def refund_whole_order(self, request, queryset):
        require_permission(request, REFUND_PERMISSION)
        for order in queryset:
            if order.status == Order.Status.NEEDS_REFUND:
                self._return_refused(request, order)
                continue
            seats = list(order.seats.filter(status=Seat.Status.ACTIVE))
            try:
                refund = refund_seats(order=order, seats=seats, reason=f"Refunded by {request.user}")
            except RefundError as exc:
                self.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
            except stripe_client.PaymentProviderError as exc:
                self.message_user(request, f"{order.reference}: Stripe refused the refund ({exc}). Nothing changed.", messages.ERROR)
            else:
                self.message_user(request, f"{order.reference}: refunded {usd(refund.amount_cents)}.", messages.SUCCESS)

    def _return_refused(self, request, order):
        """An order whose payment could not stand: retry returning it (its automatic refund failed)."""
        try:
            count = return_refused_payments(order=order)
        except stripe_client.PaymentProviderError as exc:
            self.message_user(request, f"{order.reference}: Stripe refused the refund ({exc}). Nothing changed.", messages.ERROR)
        else:
            self.message_user(request, f"{order.reference}: returned {count} payment(s).", messages.SUCCESS)

    @admin.action(description="Resend the confirmation email", permissions=["change"])
    def resend_confirmation(self, request, queryset):
        sent = 0
        for order in queryset.filter(status=Order.Status.PAID):
            emails.send_order_confirmation(order_id=order.pk, resend=True)
            sent += 1
        self.message_user(request, f"Resent {sent} confirmation(s). Unpaid orders were skipped.", messages.SUCCESS)

    @admin.display(description="Billing address")
    def billing_address(self, obj):
        return ", ".join(obj.billing_address_lines) if obj.is_invoiced else "–"

    @admin.display(description="Hosted invoice page")
    def hosted_invoice_page(self, obj):
        if not obj.stripe_invoice_url:
            return "–"
        return format_html('<a href="{0}" rel="noopener">{0}</a>', obj.stripe_invoice_url)

    @admin.display(description="Added to order")
    def parent_order(self, obj):
        if not obj.parent_id:
            return "–"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:registrations_order_change", args=[obj.parent_id]), obj.parent.reference
        )

    @admin.display(description="Seats added later")
    def added_seats(self, obj):
        rows = [
            format_html(
                '<a href="{}">{}</a>: {} seat(s), {}, {}',
                reverse("admin:registrations_order_change", args=[a.pk]),
                a.reference,
                a.seat_count,
                usd(a.total_cents),
                a.get_status_display(),
            )
            for a in obj.additions.order_by("created_at")
        ]
        return format_html("<br>".join(["{}"] * len(rows)), *rows) if rows else "–"

    @admin.action(description="Mark invoice paid out of band (cheque or transfer received)", permissions=["mark_invoice_paid"])
    def mark_invoice_paid_out_of_band(self, request, queryset):
        require_permission(request, MARK_PAID_PERMISSION)
        for order in queryset:
            try:
                order = mark_invoice_paid_out_of_band(order=order)
            except InvoiceError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            except stripe_client.PaymentProviderError as exc:
                self.message_user(
                    request, f"{order.reference}: Stripe refused to mark the invoice paid ({exc}). Nothing changed.", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    f"{order.reference}: invoice {order.invoice_number} marked paid out of band; order {order.get_status_display().lower()}.",
                    messages.SUCCESS,
                )

    @admin.action(description="Export selected orders to CSV")
    def export_csv(self, request, queryset):
        return exports.csv_response(
            filename=f"orders-{timezone.now():%Y%m%d-%H%M}.csv",
            header=exports.ORDER_HEADER,
            rows=exports.order_rows(with_money(queryset.select_related("workshop", "parent"))),
        )


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["order", "kind", "seat_count", "amount", "reason", "stripe_refund_id", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["order"]
    search_fields = ["order__reference", "stripe_refund_id", "parts__stripe_refund_id"]
    date_hierarchy = "created_at"
    readonly_fields = ["order", "kind", "seat_count", "amount_cents", "reason", "stripe_refund_id", "created_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return usd(obj.amount_cents)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """The ledger of money received, read-only: rows are written when Stripe (or staff) report a payment."""

    list_display = ["received_at", "order", "amount", "currency", "source", "status", "stripe_payment_intent_id"]
    list_filter = ["status", "source"]
    list_select_related = ["order"]
    search_fields = [
        "order__reference", "stripe_payment_intent_id", "stripe_checkout_session_id", "stripe_invoice_id", "stripe_event_id",
    ]
    date_hierarchy = "received_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return usd(obj.amount_cents)
