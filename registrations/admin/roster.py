"""Seats, the per-workshop roster with attendance, pre-work progress and certificates."""

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from registrations.errors import (
    AttendanceError,
)
from registrations.selectors.staff_reports import (
    access_needs_text,
    roster,
    session_count_max,
    with_access_needs,
)
from registrations.services.learning import (
    revoke_certificate,
    set_attendance,
)
from workshops.adminforms import row_id
from workshops.models import Session, Workshop

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
    AFFINITY_PERMISSION,
    MoneyActionPermissions,
    PrivateSeatLookups,
    _issue_certificates,
    _order_page_link,
    can_see_access_needs,
    refund_selected_seats,
    resend_welcome,
    titled,
)

FULL_ROSTER_PERMISSION = "registrations.view_rosterseat"
OWN_ROSTER_PERMISSION = "registrations.view_own_roster"


@admin.register(Seat)
class SeatAdmin(PrivateSeatLookups, MoneyActionPermissions, admin.ModelAdmin):
    view_on_site = False  # a seat's page is the attendee's private link
    list_display = ["attendee_name", "attendee_email", "order_reference", "organisation", "workshop", "status", "access_needs"]
    list_filter = [
        ("status", titled("seat status", admin.ChoicesFieldListFilter)), "order__workshop",
        ("order__status", titled("order status", admin.ChoicesFieldListFilter)), "needs_captions", "needs_interpreter",
    ]
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
        return access_needs_text(obj) or "–"


@admin.register(PreworkCompletion)
class PreworkCompletionAdmin(admin.ModelAdmin):
    list_display = ["seat", "module", "completed_at"]
    list_select_related = ["seat__order", "module"]
    search_fields = ["seat__attendee_name", "seat__attendee_email"]


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    """The records behind the roster's attendance columns, read-only: attendance is marked from the
    roster, which refuses sessions that have not started."""

    list_display = ["seat", "session", "marked_at"]
    list_select_related = ["seat__order", "session__workshop"]
    search_fields = ["seat__attendee_name", "seat__attendee_email"]

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


class AccessNeedsFilter(admin.SimpleListFilter):
    title = "access needs"
    parameter_name = "access"

    def lookups(self, request, model_admin):
        return [("yes", "Has access needs")]

    def queryset(self, request, queryset):
        return with_access_needs(queryset) if self.value() == "yes" else queryset


class NamedFilter(admin.SimpleListFilter):
    title = "named"
    parameter_name = "named"

    def lookups(self, request, model_admin):
        return [("yes", "Named"), ("no", "Not named yet")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(attendee_email="")
        if self.value() == "no":
            return queryset.filter(attendee_email="")
        return queryset


def _attendance_column(number: int, session=None):
    """A roster column for the n-th session: a tick or cross once it has started, "not yet" before."""

    def column(obj):
        starts_at = getattr(obj, f"session_{number}_starts_at", None)
        if starts_at is None:
            return "–"
        if starts_at > timezone.now():
            return "not yet"
        return display_for_value(getattr(obj, f"attended_{number}"), "–", boolean=True)

    column.__name__ = f"attended_session_{number}"
    column.short_description = (
        format_html("Session {}<br>{}", number, f"{timezone.localtime(session.starts_at, session.workshop.tz):%b %-d}")
        if session
        else f"Session {number}"
    )
    column.admin_order_field = f"attended_{number}"
    return column


@admin.register(RosterSeat)
class RosterAdmin(PrivateSeatLookups, MoneyActionPermissions, admin.ModelAdmin):
    """Per-workshop roster for the day: filter by workshop, tick people, mark attendance.

    Facilitators (only "view own roster") read the roster of the workshops they are assigned to, with
    access needs, and nothing else: no actions, no links into orders or seats.
    """

    change_list_template = "registrations/admin/roster_change_list.html"
    view_on_site = False
    list_display = ["attendee", "organisation", "prework", "certificate_status"]
    list_display_links = None
    list_filter = ["order__workshop", PreworkFilter, NamedFilter]
    list_select_related = ["order__workshop"]
    search_fields = ["attendee_name", "attendee_email", "order__organisation", "order__reference", "order__buyer_email"]
    ordering = ["order__workshop__title", "order__organisation", "attendee_name", "pk"]
    list_per_page = 200
    actions = [
        "export_csv",
        "issue_certificates",
        refund_selected_seats,
        resend_welcome,
    ]

    def _sessions(self, request) -> tuple[int, list]:
        """How many attendance columns, and the sessions themselves when one workshop is shown (cached per request)."""
        if not hasattr(request, "_roster_sessions"):
            workshop_id = row_id(request.GET.get("order__workshop__id__exact", ""))
            sessions = []
            if workshop_id is not None:
                sessions = list(Session.objects.filter(workshop_id=workshop_id).select_related("workshop").order_by("starts_at", "pk"))
            request._roster_sessions = (len(sessions), sessions) if sessions else (session_count_max(), [])
        return request._roster_sessions

    def get_queryset(self, request):
        queryset = roster(super().get_queryset(request), session_count=self._sessions(request)[0])
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
        count, sessions = self._sessions(request)
        columns = [_attendance_column(n, sessions[n - 1] if sessions else None) for n in range(1, count + 1)]
        # Links only into screens this user may open (a facilitator sees neither seats nor orders).
        attendee = "attendee" if request.user.has_perm("registrations.view_seat") else "attendee_unlinked"
        organisation = "organisation" if request.user.has_perm("registrations.view_order") else "organisation_unlinked"
        needs = ["access_needs"] if can_see_access_needs(request) else []
        return [attendee, organisation, *needs, "prework", *columns, "certificate_status"]

    def get_list_filter(self, request):
        extra = [AccessNeedsFilter] if can_see_access_needs(request) else []
        return [*self.list_filter, *extra]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            return actions
        count, sessions = self._sessions(request)
        attendance = {}
        for attended in (True, False):
            for number in range(1, count + 1):
                name = f"{'mark' if attended else 'clear'}_session_{number}"
                label = f"{'Mark attended' if attended else 'Clear attendance'}: session {number}"
                if sessions:
                    label += f" ({timezone.localtime(sessions[number - 1].starts_at, sessions[number - 1].workshop.tz):%b %-d})"
                attendance[name] = (self._attendance_action(number, attended), name, label)
        return {**attendance, **actions}

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
        # Coordinators (only they get the annotation) read the group under the name: no extra column at 1280 px.
        group = getattr(obj, "affinity_label", None)
        if group:
            return format_html("{}<br><small>{}</small><br><small>Affinity group: {}</small>", label, obj.attendee_email, group)
        return format_html("{}<br><small>{}</small>", label, obj.attendee_email)

    @admin.display(description="Attendee", ordering="attendee_name")
    def attendee(self, obj):
        return self._attendee(obj, link=True)

    @admin.display(description="Attendee", ordering="attendee_name")
    def attendee_unlinked(self, obj):
        return self._attendee(obj, link=False)

    @admin.display(description="School or district, order", ordering="order__organisation")
    def organisation(self, obj):
        return format_html(
            '{}<br><small><a href="{}">{}</a></small>',
            obj.order.organisation, reverse("admin:registrations_order_change", args=[obj.order_id]), obj.order.reference,
        )

    @admin.display(description="School or district, order", ordering="order__organisation")
    def organisation_unlinked(self, obj):
        return format_html("{}<br><small>{}</small>", obj.order.organisation, obj.order.reference)

    @admin.display(description="Access needs")
    def access_needs(self, obj):
        return access_needs_text(obj) or "–"

    @admin.display(description="Pre-work (min)", ordering="prework_minutes_done")
    def prework(self, obj):
        return f"{obj.prework_minutes_done} of {obj.prework_minutes_total}"

    @admin.display(description="Certificate")
    def certificate_status(self, obj):
        if not obj.certificate_code:
            return "–"
        return f"{obj.certificate_code} (revoked)" if obj.certificate_revoked_at else obj.certificate_code

    def _attendance_action(self, number: int, attended: bool):
        def action(modeladmin, request, queryset):
            try:
                changed = set_attendance(seats=list(queryset), session_number=number, attended=attended)
            except AttendanceError as exc:
                modeladmin.message_user(request, str(exc), messages.ERROR)
                return
            verb = "Marked" if attended else "Cleared"
            modeladmin.message_user(request, f"{verb} session {number} attendance for {changed} attendee(s).", messages.SUCCESS)

        return action

    @admin.action(description="Export selected to CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        count = self._sessions(request)[0]
        header, seats = exports.roster_header(count), list(queryset)
        rows = exports.roster_rows(seats, session_count=count)
        if can_see_access_needs(request):
            header.append("Access needs")
            rows = ([*row, exports._text(access_needs_text(seat))] for seat, row in zip(seats, rows, strict=True))
        return exports.csv_response(filename=f"roster-{timezone.now():%Y%m%d-%H%M}.csv", header=header, rows=rows)

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
