"""Technical records staff rarely need: Stripe events, the email outbox, reminders sent, seat alerts."""

from django.contrib import admin

from registrations.selectors.breakout import names_affinity_group

from ..models import (
    OutboundEmail,
    ReminderSent,
    SeatAlert,
    StripeEvent,
)


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


@admin.register(SeatAlert)
class SeatAlertAdmin(admin.ModelAdmin):
    list_display = ["email", "workshop", "created_at", "notified_at"]
    list_filter = ["workshop", ("notified_at", admin.EmptyFieldListFilter)]
    list_select_related = ["workshop"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    readonly_fields = ["notified_at"]  # set when the "seats have opened up" email goes out


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to_address", "created_at", "sent_at", "attempts"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to_address", "subject", "key"]
    date_hierarchy = "created_at"
    readonly_fields = ["key", "to_address", "subject", "body", "created_at", "sent_at", "attempts", "last_error"]

    def has_add_permission(self, request):
        return False

    def get_fields(self, request, obj=None):
        """A session reminder's body names the attendee's affinity group: only for who may see the plan."""
        fields = super().get_fields(request, obj)
        if obj is not None and not request.user.has_perm("registrations.view_breakout_plan"):
            if names_affinity_group(outbound_key=obj.key):
                return [f for f in fields if f not in ("body", "html_body")]
        return fields


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
