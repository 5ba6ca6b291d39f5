from django.contrib import admin, messages

from workshops.templatetags.workshop_tags import usd

from . import emails, payments, services
from .models import (
    Attendance,
    Order,
    OutboundEmail,
    PreworkCompletion,
    Refund,
    ReminderSent,
    Seat,
    SeatAlert,
    StripeEvent,
)


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    can_delete = False
    fields = ["position", "attendee_name", "attendee_email", "needs_captions", "needs_interpreter", "access_note", "status"]
    readonly_fields = ["position", "status"]


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["created_at", "seat_count", "amount", "reason", "stripe_refund_id"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount")
    def amount(self, obj):
        return usd(obj.amount_cents)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["reference", "buyer_name", "organisation", "workshop", "seat_count", "total", "status", "created_at"]
    list_filter = ["status", "workshop", "is_test_payment", "role"]
    list_select_related = ["workshop"]
    search_fields = [
        "reference",
        "buyer_name",
        "buyer_email",
        "organisation",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "seats__attendee_email",
        "seats__attendee_name",
    ]
    date_hierarchy = "created_at"
    inlines = [SeatInline, RefundInline]
    actions = ["refund_whole_order", "resend_confirmation"]
    readonly_fields = [
        "reference",
        "token",
        "workshop",
        "seat_count",
        "refunded_seat_count",
        "unit_price",
        "total",
        "refunded",
        "tier_min_seats",
        "status",
        "hold_expires_at",
        "checkout_attempts",
        "is_test_payment",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "paid_at",
        "closed_at",
        "confirmation_sent_at",
        "created_at",
        "updated_at",
    ]
    fields = [
        "reference",
        "workshop",
        "status",
        "buyer_name",
        "buyer_email",
        "organisation",
        "role",
        "buyer_attends",
        "seat_count",
        "refunded_seat_count",
        "unit_price",
        "tier_min_seats",
        "total",
        "refunded",
        "hold_expires_at",
        "is_test_payment",
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "checkout_attempts",
        "paid_at",
        "closed_at",
        "confirmation_sent_at",
        "staff_note",
        "token",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False  # orders come from the public registration, which holds seats properly

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Unit price", ordering="unit_price_cents")
    def unit_price(self, obj):
        return usd(obj.unit_price_cents)

    @admin.display(description="Total", ordering="total_cents")
    def total(self, obj):
        return usd(obj.total_cents)

    @admin.display(description="Refunded", ordering="refunded_cents")
    def refunded(self, obj):
        return usd(obj.refunded_cents)

    @admin.action(description="Refund the whole order through Stripe")
    def refund_whole_order(self, request, queryset):
        for order in queryset:
            seats = list(order.seats.filter(status=Seat.Status.ACTIVE))
            try:
                refund = services.refund_seats(order=order, seats=seats, reason=f"Refunded by {request.user}")
            except services.RefundError as exc:
                self.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
            except payments.PaymentProviderError as exc:
                self.message_user(request, f"{order.reference}: Stripe refused the refund ({exc}). Nothing changed.", messages.ERROR)
            else:
                self.message_user(request, f"{order.reference}: refunded {usd(refund.amount_cents)}.", messages.SUCCESS)

    @admin.action(description="Resend the confirmation email")
    def resend_confirmation(self, request, queryset):
        sent = 0
        for order in queryset.filter(status=Order.Status.PAID):
            emails.send_order_confirmation(order_id=order.pk)
            sent += 1
        self.message_user(request, f"Resent {sent} confirmation(s). Unpaid orders were skipped.", messages.SUCCESS)


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ["attendee_name", "attendee_email", "order_reference", "organisation", "workshop", "status", "access_needs"]
    list_filter = ["status", "order__workshop", "order__status", "needs_captions", "needs_interpreter"]
    list_select_related = ["order__workshop"]
    search_fields = ["attendee_name", "attendee_email", "order__reference", "order__organisation", "order__buyer_email"]
    readonly_fields = ["order", "position", "token", "status", "welcome_sent_at", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    actions = ["resend_welcome"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Order", ordering="order__reference")
    def order_reference(self, obj):
        return obj.order.reference

    @admin.display(description="Organisation", ordering="order__organisation")
    def organisation(self, obj):
        return obj.order.organisation

    @admin.display(description="Workshop", ordering="order__workshop__title")
    def workshop(self, obj):
        return obj.order.workshop

    @admin.display(description="Access needs")
    def access_needs(self, obj):
        needs = [label for flag, label in [(obj.needs_captions, "captions"), (obj.needs_interpreter, "interpreter")] if flag]
        if obj.access_note:
            needs.append(obj.access_note)
        return ", ".join(needs) or "–"

    @admin.action(description="Resend the welcome email")
    def resend_welcome(self, request, queryset):
        count = 0
        for seat in queryset.filter(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID).exclude(attendee_email=""):
            emails.send_seat_welcome(seat_id=seat.pk)
            count += 1
        self.message_user(request, f"Sent {count} welcome email(s). Unnamed or unpaid seats were skipped.", messages.SUCCESS)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "order", "outcome", "received_at"]
    list_filter = ["type", "outcome"]
    list_select_related = ["order"]
    search_fields = ["event_id", "order__reference"]
    date_hierarchy = "received_at"
    readonly_fields = ["event_id", "type", "order", "outcome", "payload", "received_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["order", "seat_count", "amount", "reason", "stripe_refund_id", "created_at"]
    list_select_related = ["order"]
    search_fields = ["order__reference", "stripe_refund_id"]
    date_hierarchy = "created_at"
    readonly_fields = ["order", "seat_count", "amount_cents", "reason", "stripe_refund_id", "created_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return usd(obj.amount_cents)


@admin.register(SeatAlert)
class SeatAlertAdmin(admin.ModelAdmin):
    list_display = ["email", "workshop", "created_at", "notified_at"]
    list_filter = ["workshop"]
    list_select_related = ["workshop"]
    search_fields = ["email"]
    date_hierarchy = "created_at"


@admin.register(PreworkCompletion)
class PreworkCompletionAdmin(admin.ModelAdmin):
    list_display = ["seat", "module", "completed_at"]
    list_select_related = ["seat__order", "module"]
    search_fields = ["seat__attendee_name", "seat__attendee_email"]


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ["seat", "session", "marked_at"]
    list_select_related = ["seat__order", "session__workshop"]
    search_fields = ["seat__attendee_name", "seat__attendee_email"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to_address", "created_at", "sent_at", "attempts"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to_address", "subject", "key"]
    date_hierarchy = "created_at"
    readonly_fields = ["key", "to_address", "subject", "body", "created_at", "sent_at", "attempts", "last_error"]

    def has_add_permission(self, request):
        return False


@admin.register(ReminderSent)
class ReminderSentAdmin(admin.ModelAdmin):
    list_display = ["email", "kind", "session", "seat", "created_at"]
    list_filter = ["kind", "seat__order__workshop"]
    list_select_related = ["seat__order", "session__workshop"]
    search_fields = ["email", "seat__attendee_name", "seat__order__reference"]
    date_hierarchy = "created_at"
    readonly_fields = ["seat", "kind", "session", "email", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
