"""Seats, the per-workshop roster with attendance, pre-work progress and certificates."""

from django.contrib import admin, messages
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from registrations.errors import (
    AttendanceError,
)
from registrations.selectors.staff_reports import roster
from workshops.models import Workshop
from registrations.services.learning import (
    revoke_certificate,
    set_attendance,
)

from .. import exports
from ..models import (
    Attendance,
    Certificate,
    PreworkCompletion,
    RosterSeat,
    Seat,
)
from .actions import (
    ACCESS_NEEDS_FIELDS,
    MoneyActionPermissions,
    PrivateSeatLookups,
    _issue_certificates,
    _order_page_link,
    can_see_access_needs,
    refund_selected_seats,
    resend_welcome,
)

FULL_ROSTER_PERMISSION = "registrations.view_rosterseat"
OWN_ROSTER_PERMISSION = "registrations.view_own_roster"
# Every group's affinity choices (issue 16): coordinators. A facilitator sees their own groups' rooms in
# "Breakout rooms", never the other groups' members here.
AFFINITY_PERMISSION = "registrations.view_breakout_plan"


def _access_needs(obj) -> str:
    needs = [label for flag, label in [(obj.needs_captions, "captions"), (obj.needs_interpreter, "interpreter")] if flag]
    if obj.access_note:
        needs.append(obj.access_note)
    return ", ".join(needs) or "–"


@admin.register(Seat)
class SeatAdmin(PrivateSeatLookups, MoneyActionPermissions, admin.ModelAdmin):
    list_display = ["attendee_name", "attendee_email", "order_reference", "organisation", "workshop", "status", "access_needs"]
    list_filter = ["status", "order__workshop", "order__status", "needs_captions", "needs_interpreter"]
    list_select_related = ["order__workshop"]
    search_fields = ["attendee_name", "attendee_email", "order__reference", "order__organisation", "order__buyer_email"]
    fields = [
        "order", "position", "attendee_name", "attendee_email", "attendee_changes", "needs_captions", "needs_interpreter",
        "access_note", "status", "welcome_sent_at", "created_at", "updated_at",
    ]
    # No token: it is the attendee's private link (their page, Zoom link and affinity group); staff resend it.
    readonly_fields = [
        "order", "position", "attendee_name", "attendee_email", "attendee_changes", "status", "welcome_sent_at",
        "created_at", "updated_at",
    ]
    date_hierarchy = "created_at"
    actions = [resend_welcome, refund_selected_seats]

    def has_add_permission(self, request):
        return False

    # Staff without "Can see attendees' access needs" (Finance) get no column, filter or field of them.
    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return shown if can_see_access_needs(request) else [f for f in shown if f != "access_needs"]

    def get_list_filter(self, request):
        shown = super().get_list_filter(request)
        return shown if can_see_access_needs(request) else [f for f in shown if f not in ACCESS_NEEDS_FIELDS]

    def get_fields(self, request, obj=None):
        shown = super().get_fields(request, obj)
        if not request.user.has_perm("registrations.view_order"):
            shown = [f for f in shown if f != "attendee_changes"]  # the order's private page shows its money
        return shown if can_see_access_needs(request) else [f for f in shown if f not in ACCESS_NEEDS_FIELDS]

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
        return _access_needs(obj)


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
class RosterAdmin(PrivateSeatLookups, MoneyActionPermissions, admin.ModelAdmin):
    """Per-workshop roster for the day: filter by workshop, tick people, mark attendance.

    Facilitators (only "view own roster") read the roster of the workshops they are assigned to, with
    access needs, and nothing else: no actions, no links into orders or seats.
    """

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
        queryset = roster(super().get_queryset(request))
        if not request.user.has_perm(FULL_ROSTER_PERMISSION):
            led = Workshop.objects.filter(Q(facilitators=request.user) | Q(affinity_groups__facilitators__user=request.user))
            queryset = queryset.filter(order__workshop__in=led.values("pk"))
        if request.user.has_perm(AFFINITY_PERMISSION):
            queryset = queryset.annotate(affinity_label=F("affinity_choice__group__label"))
        return queryset

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or request.user.has_perm(OWN_ROSTER_PERMISSION)

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(FULL_ROSTER_PERMISSION)

    def get_list_display(self, request):
        # Links only into screens this user may open (a facilitator sees neither seats nor orders).
        shown = list(super().get_list_display(request))
        if not request.user.has_perm("registrations.view_seat"):
            shown[shown.index("attendee")] = "attendee_unlinked"
        if not request.user.has_perm("registrations.view_order"):
            shown[shown.index("order_link")] = "order_reference"
        if can_see_access_needs(request):
            shown.insert(2, "access_needs")
        if request.user.has_perm(AFFINITY_PERMISSION):
            shown.insert(3 if can_see_access_needs(request) else 2, "affinity_group")
        return shown

    @admin.display(description="Affinity group", ordering="affinity_label")
    def affinity_group(self, obj):
        return getattr(obj, "affinity_label", None) or "–"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Actions need "change"; single seats are edited on the Seat page, not here.
        return obj is None and super().has_change_permission(request)

    @staticmethod
    def _attendee(obj, *, link: bool):
        label = format_html("Seat {} (not named yet)", obj.position) if not obj.attendee_email else obj.attendee_name
        if link:
            label = format_html('<a href="{}">{}</a>', reverse("admin:registrations_seat_change", args=[obj.pk]), label)
        if not obj.attendee_email:
            return label
        return format_html("{}<br><small>{}</small>", label, obj.attendee_email)

    @admin.display(description="Attendee", ordering="attendee_name")
    def attendee(self, obj):
        return self._attendee(obj, link=True)

    @admin.display(description="Attendee", ordering="attendee_name")
    def attendee_unlinked(self, obj):
        return self._attendee(obj, link=False)

    @admin.display(description="Access needs")
    def access_needs(self, obj):
        return _access_needs(obj)

    @admin.display(description="Organisation", ordering="order__organisation")
    def organisation(self, obj):
        return obj.order.organisation

    @admin.display(description="Order", ordering="order__reference")
    def order_reference(self, obj):
        return obj.order.reference

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

    @admin.action(description="Export selected to CSV", permissions=["export"])
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
