"""The payment ledger in admin: each order's payments and refunds, and the read-only lists of both."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from workshops.adminforms import zone_label
from workshops.models import Workshop
from workshops.templatetags.workshop_tags import usd

from .. import exports
from ..models import Payment, Refund
from ..selectors.finance import finance_entries


class FinanceExportForm(forms.Form):
    """Which payments and refunds to export: a workshop (or all), and days in the site's time zone."""

    workshop = forms.ModelChoiceField(Workshop.objects.order_by("-created_at"), required=False, empty_label="All workshops")
    since = forms.DateField(label="From (first day)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To (last day)", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", "The last day must be on or after the first day.")
        return data

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """[since, until) as aware datetimes: the first day's start, and the start of the day after the last."""
        zone = timezone.get_current_timezone()
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        start = datetime.combine(since, time.min, zone) if since else None
        # The last day a calendar has (9999-12-31) has no day after it: no end at all.
        end = datetime.combine(until + timedelta(days=1), time.min, zone) if until and until < date.max else None
        return start, end


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
        made = Q(refund_parts__refund__made_at__isnull=False)
        return super().get_queryset(request).annotate(
            refunded_cents=Sum("refund_parts__amount_cents", default=0, filter=made),
            pending_cents=Sum("refund_parts__amount_cents", default=0, filter=~made),
        )

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount")
    def amount(self, obj):
        return usd(obj.amount_cents)

    @admin.display(description="Refunded from it")
    def refunded(self, obj):
        pending = getattr(obj, "pending_cents", 0)
        return usd(getattr(obj, "refunded_cents", 0)) + (f" (+ {usd(pending)} owed back, waiting for Stripe)" if pending else "")


def _made(refund: Refund) -> str:
    """When the money went back, that Stripe has not taken it yet, or that Stripe could not complete it."""
    if refund.made_at is None:
        return ("Waiting on Stripe: not yet refunded. Sent again automatically for a while, then with the orders' "
                "action “Send pending seat refunds again” (the review note says which)")
    made = f"{timezone.localtime(refund.made_at):%Y-%m-%d %H:%M %Z}"
    if refund.amount_cents == 0 and "failed at Stripe" in refund.reason:
        return f"Failed at Stripe: nothing reached the buyer (sent {made})"
    return made


def _withheld(refund: Refund) -> str:
    """What a seat refund kept back because the seats the order keeps cost more at their own tier, and why."""
    if not refund.pricing_note:
        return "–"
    return f"{usd(refund.withheld_cents)}: {refund.pricing_note}" if refund.withheld_cents else refund.pricing_note


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["created_at", "made", "kind", "seat_count", "amount", "withheld", "from_payments", "reason", "stripe_refund_id"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parts__payment__order")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount")
    def amount(self, obj):
        return usd(obj.amount_cents)

    @admin.display(description="Made")
    def made(self, obj):
        return _made(obj)

    @admin.display(description="Withheld for the seats kept")
    def withheld(self, obj):
        return _withheld(obj)

    @admin.display(description="From payment")
    def from_payments(self, obj):
        """Which payment each part came out of: the order's own, or a batch of seats added later."""
        return ", ".join(
            f"{usd(part.amount_cents)} of {part.payment.order.reference} ({part.payment.reference or part.payment.get_source_display()})"
            for part in obj.parts.all()
        ) or "–"


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["order", "kind", "seat_count", "amount", "withheld", "reason", "stripe_refund_id", "created_at", "made"]
    list_filter = ["kind"]
    list_select_related = ["order"]
    search_fields = ["order__reference", "stripe_refund_id", "parts__stripe_refund_id"]
    date_hierarchy = "created_at"
    fields = [
        "seats", "order", "kind", "seat_count", "amount", "withheld", "reason", "stripe_refund_id", "created_at", "made_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return usd(obj.amount_cents)

    @admin.display(description="Withheld for the seats kept", ordering="withheld_cents")
    def withheld(self, obj):
        return _withheld(obj)

    @admin.display(description="Made", ordering="made_at")
    def made(self, obj):
        return _made(obj)


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
    actions = ["export_finance_csv"]
    # The payment's own page (view only): money in dollars, not the stored cents.
    fieldsets = [(None, {
        "fields": [
            "order", "amount", "currency", "source", "status", "stripe_payment_intent_id", "stripe_checkout_session_id",
            "stripe_invoice_id", "stripe_event_id", "stripe_refunded", "stripe_refund_failed", "note", "received_at",
        ],
        "description": "Refunded at Stripe: the most Stripe has reported refunded from this charge. Refunds that failed "
        "at Stripe: money Stripe could not return to the buyer (it came back to the Stripe balance).",
    })]
    readonly_fields = fieldsets[0][1]["fields"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        own = [path("finance/", self.admin_site.admin_view(self.finance_view), name="registrations_payment_finance")]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "finance_url": "finance/"})

    def finance_view(self, request):
        """The finance CSV: a form to choose the workshop and days; `download=1` with valid choices downloads it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = FinanceExportForm(request.GET if request.GET else None)
        if request.GET.get("download") and form.is_valid():
            since, until = form.bounds()
            workshop = form.cleaned_data["workshop"]
            entries = finance_entries(workshop_id=workshop.pk if workshop else None, since=since, until=until)
            return self._finance_csv(entries, suffix=workshop.slug if workshop else "all")
        context = {
            **self.admin_site.each_context(request), "title": "Finance CSV: payments and refunds", "form": form,
            "opts": self.opts, "zone": zone_label(timezone.get_current_timezone(), timezone.now()),
        }
        return TemplateResponse(request, "registrations/admin/finance_export.html", context)

    @admin.action(description="Export the finance CSV (these payments and their refunds)")
    def export_finance_csv(self, request, queryset):
        return self._finance_csv(finance_entries(payments=queryset), suffix="selected")

    @staticmethod
    def _finance_csv(entries, *, suffix: str):
        return exports.csv_response(
            filename=f"finance-{suffix}-{timezone.now():%Y%m%d-%H%M}.csv",
            header=exports.FINANCE_HEADER,
            rows=exports.finance_rows(entries),
        )

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return usd(obj.amount_cents)

    @admin.display(description="Refunded at Stripe")
    def stripe_refunded(self, obj):
        return usd(obj.stripe_refunded_cents)

    @admin.display(description="Refunds that failed at Stripe")
    def stripe_refund_failed(self, obj):
        return usd(obj.stripe_refund_failed_cents)
