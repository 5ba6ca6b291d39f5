"""Discount and scholarship codes (usage, CSV, batches) and quotes."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from registrations.services.vouchers import generate_vouchers
from workshops.admin import LocalTimeZoneMixin
from workshops.adminforms import StaffFormsMixin
from workshops.templatetags.workshop_tags import usd

from .. import exports
from ..forms import VoucherBatchForm
from ..models import (
    Order,
    Quote,
    Voucher,
)


def _voucher_uses_annotation():
    """Seats the code discounts on paid orders and live holds (selectors.codes.voucher_seats_used, per row)."""
    now = timezone.now()
    taking = Q(orders__status__in=[Order.Status.PAID, Order.Status.PROCESSING]) | Q(
        orders__status=Order.Status.PENDING, orders__hold_expires_at__gt=now
    )
    return Sum("orders__voucher_seat_count", filter=taking, default=0)


def _voucher_csv(vouchers) -> list[list]:
    return [
        [
            exports._text(v.code),
            exports._text(v.label),
            v.description,
            exports._text(v.workshop.title) if v.workshop_id else "any",
            v.uses,
            v.max_seats if v.max_seats is not None else "unlimited",
            v.valid_from.isoformat(timespec="minutes") if v.valid_from else "",
            v.valid_until.isoformat(timespec="minutes") if v.valid_until else "",
            "yes" if v.is_active else "no",
        ]
        for v in vouchers
    ]


VOUCHER_HEADER = ["Code", "Label", "Discount", "Workshop", "Seats used", "Seats covered", "Valid from (UTC)", "Valid until (UTC)", "Active"]


@admin.register(Voucher)
class VoucherAdmin(LocalTimeZoneMixin, StaffFormsMixin, admin.ModelAdmin):
    list_display = ["code", "label", "description", "workshop", "uses", "max_seats", "valid_until", "is_active"]
    list_filter = ["is_active", "kind", "applies_to", "workshop"]
    list_select_related = ["workshop"]
    search_fields = ["code", "label"]
    date_hierarchy = "created_at"
    actions = ["export_csv", "deactivate"]
    fields = [
        "code", "label", "kind", "percent_off", "amount_off_cents", "applies_to", "workshop",
        "valid_from", "valid_until", "max_seats", "is_active", "uses", "created_at",
    ]
    readonly_fields = ["uses", "created_at"]
    money_help = {"amount_off_cents": "In dollars, for fixed-amount codes: off each seat or off the order (see below)."}

    def zone_owner(self, object_id):
        voucher = Voucher.objects.select_related("workshop").filter(pk=object_id).first()
        return voucher.workshop if voucher and voucher.workshop_id else None

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(use_count=_voucher_uses_annotation())

    @admin.display(description="Seats used (paid or held)", ordering="use_count")
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
        """Generate a batch of scholarship codes, one seat each, and download them at once as CSV."""
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
            "title": "Generate scholarship codes (each covers one seat)",
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
