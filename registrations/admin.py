from collections import defaultdict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from registrations.errors import (
    AttendanceError,
    CertificateError,
    InvoiceError,
    RefundError,
)
from registrations.selectors.ledger import refund_amount_cents
from registrations.selectors.staff_reports import roster, workshop_dashboard
from registrations.services.invoices import mark_invoice_paid_out_of_band
from registrations.services.learning import (
    issue_certificate,
    revoke_certificate,
    set_attendance,
)
from registrations.services.refunds import refund_seats
from registrations.services.vouchers import generate_vouchers
from workshops.templatetags.workshop_tags import usd

from . import emails, exports
from .forms import VoucherBatchForm
from .models import (
    Attendance,
    Certificate,
    Order,
    OutboundEmail,
    PreworkCompletion,
    Quote,
    Refund,
    ReminderSent,
    RosterSeat,
    Seat,
    SeatAlert,
    StripeEvent,
    Voucher,
    WorkshopDashboard,
)
from .stripe import client as stripe_client


@admin.action(description="Resend the welcome email", permissions=["change"])
def resend_welcome(modeladmin, request, queryset):
    count = 0
    for seat in queryset.filter(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID).exclude(attendee_email=""):
        emails.send_seat_welcome(seat_id=seat.pk, resend=True)
        count += 1
    modeladmin.message_user(request, f"Sent {count} welcome email(s). Unnamed or unpaid seats were skipped.", messages.SUCCESS)


def _issue_certificates(modeladmin, request, seats) -> None:
    issued, not_ready = 0, []
    for seat in seats:
        try:
            issue_certificate(seat=seat, reinstate=True)
        except CertificateError:
            not_ready.append(seat.attendee_name or f"{seat.order.reference} seat {seat.position}")
        else:
            issued += 1
    modeladmin.message_user(request, f"{issued} certificate(s) issued or already valid.", messages.SUCCESS)
    if not_ready:
        modeladmin.message_user(
            request, "Not complete yet (pre-work or attendance missing): " + ", ".join(not_ready), messages.WARNING
        )


@admin.action(description="Refund selected seats through Stripe", permissions=["change"])
def refund_selected_seats(modeladmin, request, queryset):
    """Partial refunds: one Stripe refund per order, for exactly the seats ticked, after a confirmation page."""
    seats = list(queryset.filter(status=Seat.Status.ACTIVE).select_related("order__workshop").order_by("order", "position"))
    if request.POST.get("post") != "yes":
        by_order = defaultdict(list)
        for seat in seats:
            by_order[seat.order_id].append(seat)
        groups = []
        for group in by_order.values():
            order = group[0].order
            amount = refund_amount_cents(order=order, seat_count=len(group))
            groups.append({"order": order, "seats": group, "amount_cents": amount})
        return TemplateResponse(
            request,
            "registrations/admin/refund_confirm.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Refund these seats?",
                "opts": modeladmin.model._meta,
                "groups": groups,
                "seats": seats,
                "skipped": queryset.exclude(status=Seat.Status.ACTIVE).count(),
                "action": "refund_selected_seats",
            },
        )
    by_order_id = defaultdict(list)
    for seat in seats:
        by_order_id[seat.order_id].append(seat)
    for group in by_order_id.values():
        order = group[0].order
        try:
            refund = refund_seats(order=order, seats=group, reason=f"{len(group)} seat(s) refunded by {request.user}")
        except RefundError as exc:
            modeladmin.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
        except stripe_client.PaymentProviderError as exc:
            modeladmin.message_user(
                request, f"{order.reference}: Stripe refused the refund ({exc}). Nothing changed.", messages.ERROR
            )
        else:
            names = ", ".join(s.attendee_name or f"seat {s.position}" for s in group)
            modeladmin.message_user(
                request, f"{order.reference}: refunded {usd(refund.amount_cents)} for {names}.", messages.SUCCESS
            )


# Who holds a seat changes only through change_seat (the order page's seat forms), which
# gives the seat a new token so the previous attendee's link stops working; an admin edit would not.
SEAT_CHANGES_HELP = (
    "To name a seat or give it to someone else, use the seat forms on the order page, which send the "
    "new attendee their own link and stop the old one working: {}"
)


def _order_page_link(order: Order) -> str:
    url = order.get_absolute_url()
    return format_html(SEAT_CHANGES_HELP, format_html('<a href="{0}" target="_blank" rel="noopener">{0}</a>', url))


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    can_delete = False
    fields = ["position", "attendee_name", "attendee_email", "needs_captions", "needs_interpreter", "access_note", "status"]
    readonly_fields = ["position", "attendee_name", "attendee_email", "status"]


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["created_at", "seat_count", "amount", "from_payments", "reason", "stripe_refund_id"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parts__payment")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount")
    def amount(self, obj):
        return usd(obj.amount_cents)

    @admin.display(description="From payment")
    def from_payments(self, obj):
        """Which payment each part came out of: the order's own, or a batch of seats added later."""
        return ", ".join(f"{usd(part.amount_cents)} of {part.payment.reference}" for part in obj.parts.all()) or "–"


# Staff may correct the buyer's details and keep notes; everything else on an order is the record
# of what happened (prices, seats, payments) and changes only through the actions and services.
ORDER_EDITABLE_FIELDS = ("buyer_name", "buyer_email", "organisation", "role", "buyer_attends", "po_number", "staff_note")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["reference", "buyer_name", "organisation", "workshop", "seat_count", "total", "status", "created_at"]
    list_filter = ["status", "workshop", "payment_method", "invoice_status", "kind", "is_test_payment", "role"]
    list_select_related = ["workshop"]
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
    inlines = [SeatInline, RefundInline]
    actions = ["refund_whole_order", "resend_confirmation", "export_csv", "mark_invoice_paid_out_of_band"]
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

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Unit price", ordering="unit_price_cents")
    def unit_price(self, obj):
        return usd(obj.unit_price_cents)

    @admin.display(description="Total", ordering="total_cents")
    def total(self, obj):
        return usd(obj.total_cents)

    @admin.display(description="Attendee changes")
    def seat_changes(self, obj):
        return _order_page_link(obj)

    @admin.display(description="Refunded", ordering="refunded_cents")
    def refunded(self, obj):
        return usd(obj.refunded_cents)

    @admin.action(description="Refund the whole order through Stripe", permissions=["change"])
    def refund_whole_order(self, request, queryset):
        for order in queryset:
            seats = list(order.seats.filter(status=Seat.Status.ACTIVE))
            try:
                refund = refund_seats(order=order, seats=seats, reason=f"Refunded by {request.user}")
            except RefundError as exc:
                self.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
            except stripe_client.PaymentProviderError as exc:
                self.message_user(request, f"{order.reference}: Stripe refused the refund ({exc}). Nothing changed.", messages.ERROR)
            else:
                self.message_user(request, f"{order.reference}: refunded {usd(refund.amount_cents)}.", messages.SUCCESS)

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

    @admin.action(description="Mark invoice paid out of band (cheque or transfer received)", permissions=["change"])
    def mark_invoice_paid_out_of_band(self, request, queryset):
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
            rows=exports.order_rows(queryset.select_related("workshop")),
        )


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ["attendee_name", "attendee_email", "order_reference", "organisation", "workshop", "status", "access_needs"]
    list_filter = ["status", "order__workshop", "order__status", "needs_captions", "needs_interpreter"]
    list_select_related = ["order__workshop"]
    search_fields = ["attendee_name", "attendee_email", "order__reference", "order__organisation", "order__buyer_email"]
    fields = [
        "order", "position", "attendee_name", "attendee_email", "attendee_changes", "needs_captions", "needs_interpreter",
        "access_note", "status", "token", "welcome_sent_at", "created_at", "updated_at",
    ]
    readonly_fields = [
        "order", "position", "attendee_name", "attendee_email", "attendee_changes", "token", "status", "welcome_sent_at",
        "created_at", "updated_at",
    ]
    date_hierarchy = "created_at"
    actions = [resend_welcome, refund_selected_seats]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Attendee changes")
    def attendee_changes(self, obj):
        return _order_page_link(obj.order)

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


class PreworkFilter(admin.SimpleListFilter):
    title = "pre-work"
    parameter_name = "prework"

    def lookups(self, request, model_admin):
        return [("finished", "Finished"), ("unfinished", "Not finished")]

    def queryset(self, request, queryset):
        if self.value() == "finished":
            return queryset.filter(prework_minutes_done__gte=F("prework_minutes_total"))
        if self.value() == "unfinished":
            return queryset.filter(prework_minutes_done__lt=F("prework_minutes_total"))
        return queryset


@admin.register(RosterSeat)
class RosterAdmin(admin.ModelAdmin):
    """Per-workshop roster for the day: filter by workshop, tick people, mark attendance."""

    change_list_template = "registrations/admin/roster_change_list.html"
    list_display = [
        "attendee",
        "organisation",
        "order_link",
        "order_status",
        "prework",
        "attended_session_1",
        "attended_session_2",
        "certificate_status",
    ]
    list_display_links = None
    list_filter = ["order__workshop", PreworkFilter]
    list_select_related = ["order__workshop"]
    search_fields = ["attendee_name", "attendee_email", "order__organisation", "order__reference", "order__buyer_email"]
    ordering = ["order__workshop__title", "order__organisation", "attendee_name", "pk"]
    list_per_page = 200
    actions = [
        "mark_session_1",
        "mark_session_2",
        "clear_session_1",
        "clear_session_2",
        "export_csv",
        "issue_certificates",
        refund_selected_seats,
        resend_welcome,
    ]

    def get_queryset(self, request):
        return roster(super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Actions need "change"; single seats are edited on the Seat page, not here.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="Attendee", ordering="attendee_name")
    def attendee(self, obj):
        url = reverse("admin:registrations_seat_change", args=[obj.pk])
        if not obj.attendee_email:
            return format_html('<a href="{}">Seat {} (not named yet)</a>', url, obj.position)
        return format_html('<a href="{}">{}</a><br><small>{}</small>', url, obj.attendee_name, obj.attendee_email)

    @admin.display(description="Organisation", ordering="order__organisation")
    def organisation(self, obj):
        return obj.order.organisation

    @admin.display(description="Order", ordering="order__reference")
    def order_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:registrations_order_change", args=[obj.order_id]), obj.order.reference
        )

    @admin.display(description="Order status", ordering="order__status")
    def order_status(self, obj):
        return obj.order.get_status_display()

    @admin.display(description="Pre-work (minutes)", ordering="prework_minutes_done")
    def prework(self, obj):
        return f"{obj.prework_minutes_done} of {obj.prework_minutes_total}"

    @admin.display(description="Session 1", boolean=True, ordering="attended_1")
    def attended_session_1(self, obj):
        return obj.attended_1

    @admin.display(description="Session 2", boolean=True, ordering="attended_2")
    def attended_session_2(self, obj):
        return obj.attended_2

    @admin.display(description="Certificate")
    def certificate_status(self, obj):
        if not obj.certificate_code:
            return "–"
        return f"{obj.certificate_code} (revoked)" if obj.certificate_revoked_at else obj.certificate_code

    def _attendance(self, request, queryset, *, number: int, attended: bool):
        try:
            changed = set_attendance(seats=list(queryset), session_number=number, attended=attended)
        except AttendanceError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        verb = "Marked" if attended else "Cleared"
        self.message_user(request, f"{verb} session {number} attendance for {changed} attendee(s).", messages.SUCCESS)

    @admin.action(description="Mark attended: session 1", permissions=["change"])
    def mark_session_1(self, request, queryset):
        self._attendance(request, queryset, number=1, attended=True)

    @admin.action(description="Mark attended: session 2", permissions=["change"])
    def mark_session_2(self, request, queryset):
        self._attendance(request, queryset, number=2, attended=True)

    @admin.action(description="Clear attendance: session 1", permissions=["change"])
    def clear_session_1(self, request, queryset):
        self._attendance(request, queryset, number=1, attended=False)

    @admin.action(description="Clear attendance: session 2", permissions=["change"])
    def clear_session_2(self, request, queryset):
        self._attendance(request, queryset, number=2, attended=False)

    @admin.action(description="Export selected to CSV")
    def export_csv(self, request, queryset):
        return exports.csv_response(
            filename=f"roster-{timezone.now():%Y%m%d-%H%M}.csv", header=exports.ROSTER_HEADER, rows=exports.roster_rows(queryset)
        )

    @admin.action(description="Issue certificates (completed attendees only)", permissions=["change"])
    def issue_certificates(self, request, queryset):
        _issue_certificates(self, request, queryset)


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["code", "attendee_name", "workshop", "hours", "issued_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "seat__order__workshop"]
    list_select_related = ["seat__order__workshop"]
    search_fields = ["code", "attendee_name", "seat__attendee_email", "seat__order__reference"]
    date_hierarchy = "issued_at"
    readonly_fields = ["code", "seat", "attendee_name", "hours", "issued_at", "revoked_at", "verification_page"]
    fields = readonly_fields
    actions = ["revoke_certificates", "reinstate_certificates"]

    def has_add_permission(self, request):
        return False  # issued from the roster, once an attendee has completed everything

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Workshop", ordering="seat__order__workshop__title")
    def workshop(self, obj):
        return obj.seat.order.workshop

    @admin.display(description="Verification page")
    def verification_page(self, obj):
        return format_html('<a href="{0}">{0}</a>', obj.get_absolute_url())

    @admin.action(description="Revoke selected certificates", permissions=["change"])
    def revoke_certificates(self, request, queryset):
        count = sum(revoke_certificate(certificate=c) for c in queryset)
        self.message_user(request, f"Revoked {count} certificate(s). Their verification pages now say so.", messages.SUCCESS)

    @admin.action(description="Reinstate selected certificates", permissions=["change"])
    def reinstate_certificates(self, request, queryset):
        _issue_certificates(self, request, Seat.objects.filter(certificate__in=queryset).select_related("order"))


@admin.register(WorkshopDashboard)
class WorkshopDashboardAdmin(admin.ModelAdmin):
    """Seats sold, held and left, and revenue net of refunds, per workshop."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Seats and revenue: only for staff allowed to view orders.
        if not (self.has_view_permission(request) and request.user.has_perm("registrations.view_order")):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "registrations/admin/workshop_dashboard.html",
            {
                **self.admin_site.each_context(request),
                "title": "Workshop dashboard",
                "opts": self.model._meta,
                "rows": workshop_dashboard(),
                **(extra_context or {}),
            },
        )


def _voucher_uses_annotation():
    now = timezone.now()
    taking = Q(orders__status__in=[Order.Status.PAID, Order.Status.PROCESSING]) | Q(
        orders__status=Order.Status.PENDING, orders__hold_expires_at__gt=now
    )
    return Count("orders", filter=taking, distinct=True)


def _voucher_csv(vouchers) -> list[list]:
    return [
        [
            exports._text(v.code),
            exports._text(v.label),
            v.description,
            exports._text(v.workshop.title) if v.workshop_id else "any",
            v.uses,
            v.max_uses if v.max_uses is not None else "unlimited",
            v.valid_from.isoformat(timespec="minutes") if v.valid_from else "",
            v.valid_until.isoformat(timespec="minutes") if v.valid_until else "",
            "yes" if v.is_active else "no",
        ]
        for v in vouchers
    ]


VOUCHER_HEADER = ["Code", "Label", "Discount", "Workshop", "Uses", "Max uses", "Valid from (UTC)", "Valid until (UTC)", "Active"]


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "description", "workshop", "uses", "max_uses", "valid_until", "is_active"]
    list_filter = ["is_active", "kind", "applies_to", "workshop"]
    list_select_related = ["workshop"]
    search_fields = ["code", "label"]
    date_hierarchy = "created_at"
    actions = ["export_csv", "deactivate"]
    fields = [
        "code", "label", "kind", "percent_off", "amount_off_cents", "applies_to", "workshop",
        "valid_from", "valid_until", "max_uses", "is_active", "uses", "created_at",
    ]
    readonly_fields = ["uses", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(use_count=_voucher_uses_annotation())

    @admin.display(description="Uses (paid or held)", ordering="use_count")
    def uses(self, obj):
        return getattr(obj, "use_count", 0)

    @admin.display(description="Discount")
    def description(self, obj):
        return obj.description

    @admin.action(description="Export selected codes to CSV")
    def export_csv(self, request, queryset):
        vouchers = list(queryset.select_related("workshop").annotate(uses=_voucher_uses_annotation()).order_by("code"))
        return exports.csv_response(filename="codes.csv", header=VOUCHER_HEADER, rows=_voucher_csv(vouchers))

    @admin.action(description="Deactivate selected codes", permissions=["change"])
    def deactivate(self, request, queryset):
        count = queryset.update(is_active=False)
        self.message_user(request, f"Deactivated {count} code(s).", messages.SUCCESS)

    def get_urls(self):
        custom = [
            path("generate/", self.admin_site.admin_view(self.generate_view), name="registrations_voucher_generate"),
        ]
        return custom + super().get_urls()

    def generate_view(self, request):
        """Generate a batch of single-use scholarship codes and download them at once as CSV."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = VoucherBatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            vouchers = generate_vouchers(
                count=data["count"], prefix=data["prefix"], label=data["label"], kind=data["kind"],
                percent_off=data["percent_off"], amount_off_cents=data["amount_off_cents"],
                applies_to=data["applies_to"], workshop=data["workshop"], valid_until=data["valid_until"],
            )
            for voucher in vouchers:
                voucher.uses = 0
            return exports.csv_response(
                filename=f"scholarship-codes-{timezone.now():%Y%m%d-%H%M}.csv", header=VOUCHER_HEADER,
                rows=_voucher_csv(vouchers),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Generate single-use scholarship codes",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/registrations/voucher/generate.html", context, status=400 if form.errors else 200)


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["reference", "organisation", "contact_name", "workshop", "seat_count", "total", "valid_until", "created_at"]
    list_filter = ["workshop"]
    list_select_related = ["workshop"]
    search_fields = ["reference", "organisation", "contact_name", "contact_email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "reference", "workshop", "contact_name", "contact_email", "organisation", "seat_count", "unit_price_cents",
        "tier_min_seats", "subtotal_cents", "discount_cents", "voucher", "total_cents", "valid_until", "created_at",
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Total", ordering="total_cents")
    def total(self, obj):
        return usd(obj.total_cents)
