"""Staff screens for the year-long course and its waitlist: filters, CSV, invitations and enrolment."""

import csv
from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from workshops.admin import LocalTimeZoneMixin, chosen_zone
from workshops.adminforms import RowLabelsMixin, StaffFormsMixin
from workshops.templatetags.workshop_tags import usd

from . import services
from .models import Cohort, CohortTouchPoint, WaitlistEntry, WaitlistStatusChange
from .selectors import attach_prerequisite_met, filter_by_prerequisite


def _local(value, cohort: Cohort) -> str:
    """Waitlist times in the cohort's zone (Pacific), the same text in the changelist and the CSV."""
    if not value:
        return ""
    return timezone.localtime(value, cohort.tz).strftime("%Y-%m-%d %H:%M %Z")


def _spreadsheet_safe(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in Excel; a leading apostrophe keeps it text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# One definition of the waitlist columns, so the CSV is exactly what staff see in the changelist.
WAITLIST_COLUMNS: list[tuple[str, Callable[[WaitlistEntry], str]]] = [
    ("Joined", lambda e: _local(e.joined_at, e.cohort)),
    ("Name", lambda e: e.name),
    ("Email", lambda e: e.email),
    ("Organisation", lambda e: e.organisation),
    ("Role", lambda e: e.get_role_display()),
    ("Individual or team", lambda e: e.people_label),
    ("Status", lambda e: e.get_status_display()),
    ("Prerequisite met", lambda e: "yes" if e.prerequisite_met else "no"),
    ("Invited", lambda e: _local(e.invited_at, e.cohort)),
    ("Seat confirmed", lambda e: _local(e.seat_confirmed_at, e.cohort)),
    ("Cohort", lambda e: e.cohort.title),
]


class TouchPointInline(RowLabelsMixin, StaffFormsMixin, admin.TabularInline):
    model = CohortTouchPoint
    extra = 0
    fields = ["month", "title", "starts_at", "position"]


@admin.register(Cohort)
class CohortAdmin(LocalTimeZoneMixin, StaffFormsMixin, admin.ModelAdmin):
    list_display = ["title", "start_month", "status", "is_published", "people_waiting", "price"]
    money_help = {"price_cents": "Price per participant in dollars, once registration opens. Blank: not set yet."}
    list_filter = ["status", "is_published"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "start_month"
    autocomplete_fields = ["prerequisite_workshop"]
    inlines = [TouchPointInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "is_published", "status", "summary", "description"]}),
        ("Outcomes and audience", {"fields": ["outcomes", "audiences"]}),
        ("How it runs", {"fields": ["start_month", "platform", "time_zone", "prerequisite_workshop"]}),
        (
            "Registration",
            {
                "fields": ["price_cents", "capacity", "course_offering"],
                "description": "Set the status to “open” with a price, and invited people can pay for their seats "
                "from their invitation page, through the same checkout as workshops.",
            },
        ),
    ]
    readonly_fields = ["course_offering"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.sync_offering(cohort=obj)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm("registrations.view_order"):
            return fieldsets
        # The link leads to the orders list: only for staff who may open it.
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "course_offering"]}) for name, opts in fieldsets]

    @admin.display(description="Orders for course seats")
    def course_offering(self, obj):
        if not obj.offering_id:
            return "Created when the course is open with a price."
        url = reverse("admin:registrations_order_changelist") + f"?workshop__id__exact={obj.offering_id}"
        return format_html('<a href="{}">See the orders</a>', url)

    def zone_owner(self, object_id):
        return Cohort.objects.filter(pk=object_id).first()

    def zone_for_new(self, request):
        return chosen_zone(request, "time_zone")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(waiting_count=Count("waitlist_entries", filter=Q(waitlist_entries__status__in=WaitlistEntry.IN_LINE)))
        )

    @admin.display(description="Waiting or invited", ordering="waiting_count")
    def people_waiting(self, obj):
        return obj.waiting_count

    @admin.display(description="Price", ordering="price_cents")
    def price(self, obj):
        return usd(obj.price_cents) if obj.price_cents is not None else "not set"


@admin.register(CohortTouchPoint)
class CohortTouchPointAdmin(LocalTimeZoneMixin, StaffFormsMixin, admin.ModelAdmin):
    list_display = ["title", "cohort", "month", "starts_at"]
    list_filter = ["cohort"]
    list_select_related = ["cohort"]
    search_fields = ["title", "cohort__title"]
    date_hierarchy = "month"

    def zone_owner(self, object_id):
        point = CohortTouchPoint.objects.select_related("cohort").filter(pk=object_id).first()
        return point.cohort if point else None

    def zone_for_new(self, request):
        return chosen_zone(request, "cohort", Cohort)


class PrerequisiteFilter(admin.SimpleListFilter):
    title = "prerequisite met"
    parameter_name = "prerequisite"

    def lookups(self, request, model_admin):
        return [("yes", "Workshop completed / registered"), ("no", "Not yet")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return filter_by_prerequisite(queryset, met=self.value() == "yes")
        return queryset


class StatusChangeInline(admin.TabularInline):
    model = WaitlistStatusChange
    extra = 0
    can_delete = False
    fields = ["changed_at", "from_status", "to_status", "changed_by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _column(header: str, getter, **display):
    @admin.display(description=header, **display)
    def show(self, obj):
        return getter(obj)

    return show


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    view_on_site = False  # an entry's page is the person's private link; staff resend it by email
    # The CSV has one column per field (WAITLIST_COLUMNS); the list pairs some up to fit a laptop screen.
    list_display = [
        "joined",
        "person",
        "organisation_and_role",
        "team",
        "status",
        "prerequisite",
        "invited",
        "seat_confirmed",
        "cohort",
    ]
    list_display_links = ["joined", "person"]
    list_filter = ["cohort", "status", "role", "kind", PrerequisiteFilter]
    list_select_related = ["cohort"]
    search_fields = ["name", "email", "organisation"]
    date_hierarchy = "joined_at"
    ordering = ["joined_at", "pk"]
    inlines = [StatusChangeInline]
    actions = ["invite", "resend_invitation", "mark_paid_enrolled", "export_csv"]

    def lookup_allowed(self, lookup, value, request=None):
        # Admin allows a lookup on any field of the model itself: ?token__startswith=… would read an entry's
        # private link back one guess at a time.
        return lookup.split("__", 1)[0] != "token" and super().lookup_allowed(lookup, value, request)

    @admin.action(description="Mark invited entries whose course order is paid as enrolled", permissions=["change"])
    def mark_paid_enrolled(self, request, queryset):
        changed = sum(services.sync_enrolment(entry=entry, by=request.user) for entry in queryset)
        self.message_user(request, f"Marked {changed} entr{'y' if changed == 1 else 'ies'} enrolled.", messages.SUCCESS)
    fields = [
        "cohort",
        "status",
        "name",
        "email",
        "role",
        "organisation",
        "kind",
        "team_size",
        "note",
        "prerequisite",
        "joined_at",
        "invited_at",
        "seat_confirmed_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "prerequisite",
        "joined_at",
        "invited_at",
        "seat_confirmed_at",
        "created_at",
        "updated_at",
    ]

    joined = _column("Joined", WAITLIST_COLUMNS[0][1], ordering="joined_at")

    def get_list_display(self, request):
        # The course column only when there is more than one course to tell apart.
        if Cohort.objects.count() > 1:
            return self.list_display
        return [name for name in self.list_display if name != "cohort"]

    @admin.display(description="Name and email", ordering="name")
    def person(self, obj):
        return format_html("{}<br><small>{}</small>", obj.name, obj.email)

    @admin.display(description="Organisation and role", ordering="organisation")
    def organisation_and_role(self, obj):
        return format_html("{}<br><small>{}</small>", obj.organisation or "–", obj.get_role_display())

    team = _column("People", WAITLIST_COLUMNS[5][1], ordering="team_size")
    invited = _column("Invited", WAITLIST_COLUMNS[8][1], ordering="invited_at")
    seat_confirmed = _column("Confirmed", WAITLIST_COLUMNS[9][1], ordering="seat_confirmed_at")

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Fills the page's cached results, so the column costs one lookup per page, not one per row.
        attach_prerequisite_met(changelist.result_list)
        return changelist

    @admin.display(description="Prerequisite", boolean=True)
    def prerequisite(self, obj):
        if obj.pk is None:
            return None
        return obj.prerequisite_met

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["status"].help_text = (
            "Changes are recorded below. Changing this sends no email: use the “Invite” action to invite someone."
        )
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            services.record_new_entry(entry=obj, by=request.user)
            return
        changed = [name for name in form.changed_data if name != "status"]
        if changed:
            obj.save(update_fields=[*changed, "updated_at"])
        if "status" in form.changed_data:
            services.change_status(entry=obj, to_status=obj.status, by=request.user, note="Changed in admin")

    @admin.action(description="Invite (email each a link to confirm a seat)", permissions=["change"])
    def invite(self, request, queryset):
        result = services.invite_entries(entry_ids=list(queryset.values_list("pk", flat=True)), by=request.user)
        if result.invited:
            count = len(result.invited)
            self.message_user(
                request,
                f"Invited {count} {'entry' if count == 1 else 'entries'}; "
                f"{count - len(result.failed)} invitation email(s) queued.",
                messages.SUCCESS,
            )
        if result.skipped:
            self.message_user(
                request,
                f"Skipped {result.skipped} already invited, enrolled or withdrawn; nobody was emailed twice.",
                messages.INFO,
            )
        self._report_failures(request, result)

    @admin.action(description="Resend the invitation email (invited entries only)", permissions=["change"])
    def resend_invitation(self, request, queryset):
        result = services.resend_invitations(entry_ids=list(queryset.values_list("pk", flat=True)))
        if len(result.invited) > len(result.failed):
            self.message_user(
                request, f"Queued {len(result.invited) - len(result.failed)} invitation email(s) again.", messages.SUCCESS
            )
        if result.skipped:
            self.message_user(request, f"Skipped {result.skipped} not currently invited.", messages.INFO)
        self._report_failures(request, result)

    def _report_failures(self, request, result):
        if result.failed:
            self.message_user(
                request,
                "The invitation email could not be sent to: "
                + ", ".join(e.email for e in result.failed)
                + ". Use “Resend the invitation email” once mail works again.",
                messages.ERROR,
            )

    @admin.action(description="Export selected to CSV")
    def export_csv(self, request, queryset):
        if not queryset.ordered:
            queryset = queryset.order_by("joined_at", "pk")
        entries = attach_prerequisite_met(queryset.select_related("cohort"))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="waitlist-{timezone.now():%Y-%m-%d}.csv"'
        response.write("\ufeff")  # Excel reads the file as UTF-8 only with a byte-order mark.
        writer = csv.writer(response)
        writer.writerow([header for header, _ in WAITLIST_COLUMNS])
        for entry in entries:
            writer.writerow([_spreadsheet_safe(str(getter(entry))) for _, getter in WAITLIST_COLUMNS])
        return response


@admin.register(WaitlistStatusChange)
class WaitlistStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "entry", "from_status", "to_status", "changed_by", "note"]
    list_filter = ["to_status", "entry__cohort"]
    list_select_related = ["entry", "changed_by"]
    search_fields = ["entry__name", "entry__email", "note"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
