"""Orders and refunds: the buyer's order with its seats, payments, refunds and invoice."""

from django.contrib import admin, messages
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from registrations.errors import InvoiceError
from registrations.selectors.ledger import with_money
from registrations.selectors.staff_reports import ORDER_QUEUES, orders_in_queue
from registrations.services.invoices import mark_invoice_paid_out_of_band
from registrations.services.payments import clear_review
from registrations.services.seat_refunds import resend_pending_seat_refunds
from workshops.admin import LocalTimeZoneMixin
from workshops.adminforms import RowLabelsMixin
from workshops.models import Session
from workshops.templatetags.workshop_tags import usd

from .. import emails, exports
from ..models import Order, Seat
from ..stripe import client as stripe_client
from . import order_refunds
from .order_page import OrderPageTools
from .actions import (
    ACCESS_NEEDS_FIELDS,
    MARK_PAID_PERMISSION,
    MoneyActionPermissions,
    REFUND_PERMISSION,
    _order_page_link,
    can_see_access_needs,
    require_permission,
    titled,
)
from .ledger import PaymentInline, RefundInline


class SeatInline(RowLabelsMixin, admin.TabularInline):
    model = Seat
    extra = 0
    view_on_site = False  # a seat's page is the attendee's private link
    can_delete = False
    fields = ["position", "attendee_name", "attendee_email", "needs_captions", "needs_interpreter", "access_note", "status"]
    readonly_fields = ["position", "attendee_name", "attendee_email", "status"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if can_see_access_needs(request) else [f for f in fields if f not in ACCESS_NEEDS_FIELDS]

    def has_add_permission(self, request, obj=None):
        return False  # seats come with the order, or are added (and paid for) from the order page


# Staff may correct the buyer's details and keep notes; everything else on an order is the record
# of what happened (prices, seats, payments) and changes only through the actions and services.
ORDER_EDITABLE_FIELDS = ("buyer_name", "buyer_email", "organisation", "role", "buyer_attends", "po_number", "staff_note")


class QueueFilter(admin.SimpleListFilter):
    """The lists behind the admin home's figures: orders holding seats, orders that took money, invoices."""

    title = "needs attention"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return list(ORDER_QUEUES.items())

    def queryset(self, request, queryset):
        return orders_in_queue(queryset, self.value()) if self.value() in ORDER_QUEUES else queryset


def _money(cents) -> str:
    return format_html('<span class="money">{}</span>', usd(cents))


@admin.register(Order)
class OrderAdmin(OrderPageTools, MoneyActionPermissions, LocalTimeZoneMixin, admin.ModelAdmin):
    list_display = ["order", "buyer", "state", "seats", "total", "paid", "refunded", "net", "method"]
    list_display_links = ["order"]
    list_filter = [
        QueueFilter, "status", "workshop", "payment_method", "invoice_status", "kind",
        ("is_test_payment", titled("test payment (no Stripe key)", admin.BooleanFieldListFilter)), "role",
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
    # Seats added later sit right under the order they were added to.
    ordering = [
        Coalesce("parent__created_at", "created_at").desc(),
        Coalesce("parent_id", "id").desc(),
        F("parent_id").asc(nulls_first=True),
        "created_at",
    ]
    inlines = [SeatInline, PaymentInline, RefundInline]
    actions = [
        "refund_whole_order", "resend_pending_seat_refunds", "resend_confirmation", "export_csv", "mark_invoice_paid_out_of_band", "mark_review_done",
    ]
    fieldsets = [
        ("Order", {"fields": [
            "reference", "workshop", "status", "payment", "review_flag", "payment_review_note", "kind",
            "parent_order", "priced_for_seat_count", "added_seats",
        ]}),
        ("Buyer", {"fields": ["buyer_name", "buyer_email", "organisation", "role", "buyer_attends", "seat_changes"]}),
        (
            "Seats and money",
            {
                "fields": [
                    "seat_count", "refunded_seat_count", "unit_price", "tier_min_seats", "prices_kept", "voucher",
                    "voucher_seat_count", "total", "money",
                ]
            },
        ),
        ("Dates", {"fields": ["created_at", "hold_expires_at", "paid_at", "closed_at", "confirmation_sent_at"]}),
        (
            "Invoice",
            {
                "fields": [
                    "po_number", "billing_name", "billing_email", "billing_address", "invoice_number", "invoice_status",
                    "invoice_due_at", "hosted_invoice_page", "invoice_paid_out_of_band", "invoice_reminder_sent_at",
                ],
                "description": "For orders paid by invoice; the purchase-order number can be given for any order.",
            },
        ),
        ("Notes", {"fields": ["staff_note"]}),
        (
            "Stripe and system",
            {
                "classes": ["collapse"],
                "fields": [
                    "is_test_payment", "stripe_checkout_session_id", "stripe_payment_intent_id", "stripe_customer_id",
                    "stripe_invoice_id", "checkout_attempts", "token", "updated_at",
                ],
            },
        ),
    ]
    readonly_fields = [
        f for _, options in fieldsets for f in options["fields"] if f not in ORDER_EDITABLE_FIELDS
    ]

    def zone_owner(self, object_id):
        order = Order.objects.select_related("workshop").filter(pk=object_id).first()
        return order.workshop if order else None

    def get_fieldsets(self, request, obj=None):
        if obj is None or obj.is_invoiced:
            return self.fieldsets
        # A card order: of the invoice fields only the purchase-order number means anything.
        return [
            ("Purchase order", {"fields": ["po_number"]}) if name == "Invoice" else (name, options)
            for name, options in self.fieldsets
        ]

    def get_queryset(self, request):
        first = Session.objects.filter(workshop=OuterRef("workshop")).order_by("starts_at").values("starts_at")[:1]
        return with_money(super().get_queryset(request)).annotate(workshop_first_start=Subquery(first))

    @admin.display(description="Order", ordering="created_at")
    def order(self, obj):
        ordered = timezone.localtime(obj.created_at).strftime("%b %-d, %Y")
        if obj.parent_id:
            return format_html(
                '<span class="addition-mark" aria-hidden="true">↳ </span>{}<br><small>Seats added to {} · {}</small>',
                obj.reference, obj.parent.reference, ordered,
            )
        return format_html("{}<br><small>{} · {}</small>", obj.reference, ordered, _workshop_label(obj))

    @admin.display(description="Prices kept at purchase")
    def prices_kept(self, obj):
        """The tiers seat refunds price the seats kept with (README "Partial refunds")."""
        if not obj.price_tiers:
            return "None kept (placed before they were): seat refunds use the workshop's tiers as they are now"
        return " · ".join(f"{low}+ seats: {usd(cents)} each" for low, cents in obj.price_tiers)

    @admin.display(description="Status", ordering="status")
    def state(self, obj):
        if obj.payment_needs_review:
            return format_html('{}<br><strong class="review-flag">Payment needs review</strong>', obj.get_status_display())
        return obj.get_status_display()

    @admin.display(description="Buyer", ordering="buyer_name")
    def buyer(self, obj):
        return format_html("{}<br><small>{}</small>", obj.buyer_name, obj.organisation)

    @admin.display(description="Seats", ordering="seat_count")
    def seats(self, obj):
        prefix = "+" if obj.parent_id else ""
        if obj.refunded_seat_count:
            return format_html("{}{}<br><small>{} refunded</small>", prefix, obj.seat_count, obj.refunded_seat_count)
        return f"{prefix}{obj.seat_count}"

    @admin.display(description="Paid", ordering="ledger_paid_cents")
    def paid(self, obj):
        if obj.status == Order.Status.MERGED:
            return format_html('<small>in {}</small>', obj.parent.reference)
        return _money(obj.ledger_paid_cents)

    @admin.display(description="Net", ordering="ledger_net_cents")
    def net(self, obj):
        if obj.status == Order.Status.MERGED:
            return "–"
        return _money(obj.ledger_net_cents)

    @admin.display(description="Method", ordering="payment_method")
    def method(self, obj):
        return obj.payment_label

    @admin.display(description="Paid by")
    def payment(self, obj):
        return obj.payment_label

    @admin.display(description="Payment needs review")
    def review_flag(self, obj):
        # In words: Django's boolean icons put a green tick beside "needs review" on a flagged order.
        if not obj.payment_needs_review:
            return "No"
        return format_html(
            '<strong class="review-flag">{}</strong>: {}', "Yes",
            "read the review note below and the order's payments and refunds; once dealt with, tick the order in the "
            "Orders list and choose “Mark payment review done”.",
        )

    def has_add_permission(self, request):
        return False  # orders come from the public registration, which holds seats properly

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
        return _money(obj.total_cents)

    @admin.display(description="Attendee changes")
    def seat_changes(self, obj):
        return _order_page_link(obj)

    @admin.display(description="Money (from the payment ledger)")
    def money(self, obj):
        return format_html(
            "Paid {} · refunded {} · net {}{}{}",
            usd(obj.ledger_paid_cents),
            usd(obj.ledger_refunded_cents),
            usd(obj.ledger_net_cents),
            format_html(" · payments not accepted {}", usd(obj.ledger_returned_cents)) if obj.ledger_returned_cents else "",
            format_html(" · refunds that failed at Stripe {} (see the review note)", usd(obj.ledger_refund_failed_cents))
            if obj.ledger_refund_failed_cents else "",
        )

    @admin.action(description="Mark payment review done", permissions=["change"])
    def mark_review_done(self, request, queryset):
        require_permission(request, "registrations.change_order")
        done = sum(clear_review(order=order) for order in queryset)
        self.message_user(request, f"Cleared 'payment needs review' on {done} order(s).", messages.SUCCESS)

    @admin.display(description="Refunded", ordering="ledger_refunded_cents")
    def refunded(self, obj):
        if obj.ledger_refund_failed_cents:  # not refunded: the buyer is owed it (the review note says how)
            return format_html("{} ({} failed at Stripe)", _money(obj.ledger_refunded_cents), usd(obj.ledger_refund_failed_cents))
        return _money(obj.ledger_refunded_cents)

    @admin.action(description="Refund the whole order through Stripe", permissions=["refund"])
    def refund_whole_order(self, request, queryset):
        require_permission(request, REFUND_PERMISSION)
        if request.POST.get("post") != "yes":
            return order_refunds.confirm_page(self, request, order_refunds.chosen(queryset))
        return order_refunds.refund_as_shown(self, request, queryset)

    @admin.action(description="Send pending seat refunds again", permissions=["refund"])
    def resend_pending_seat_refunds(self, request, queryset):
        """Seat refunds whose answer from Stripe was lost, sent again now as the same requests (Stripe makes each once)."""
        require_permission(request, REFUND_PERMISSION)
        for order in queryset:
            made, waiting = resend_pending_seat_refunds(order=order)
            level = messages.WARNING if waiting else messages.SUCCESS
            self.message_user(
                request, f"{order.reference}: {made} pending seat refund(s) made, {waiting} still waiting on Stripe.", level
            )

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
            rows=exports.order_rows(queryset.select_related("workshop", "parent")),
        )


def _workshop_label(order) -> str:
    """Which workshop, briefly: titles repeat from year to year, so the month of the first session tells them apart."""
    first = getattr(order, "workshop_first_start", None)
    if first:
        return f"{timezone.localtime(first, order.workshop.tz):%B %Y} workshop"
    title = order.workshop.title
    return title if len(title) <= 30 else title[:28] + "…"
