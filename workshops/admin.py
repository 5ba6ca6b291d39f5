"""Staff screens for workshops, their sessions, pre-work modules and price tiers."""

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from . import schedule, services
from .adminforms import RowLabelsMixin, StaffFormsMixin, row_id, zone_note
from .models import (
    DEFAULT_TIME_ZONE,
    AffinityFacilitator,
    AffinityGroup,
    PreworkModule,
    PriceTier,
    Session,
    Workshop,
)
from .templatetags.workshop_tags import usd


class PriceTierFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        counts = [
            f.cleaned_data["min_seats"]
            for f in self.forms
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE") and f.cleaned_data.get("min_seats")
        ]
        if len(counts) != len(set(counts)):
            raise ValidationError("Each price tier needs a different minimum seat count.")
        if counts and 1 not in counts:
            raise ValidationError("One price tier must start at 1 seat, so a single person can register.")


class SessionInline(RowLabelsMixin, StaffFormsMixin, admin.TabularInline):
    model = Session
    extra = 0
    fields = ["title", "starts_at", "ends_at", "meeting_url"]


class PreworkModuleForm(forms.ModelForm):
    """A module with something to open: a link, instructions, or a file staff upload here."""

    upload = forms.FileField(label="Attach a file", required=False, help_text="A reading or worksheet; replaces any file already attached.")
    remove_file = forms.BooleanField(label="Remove the attached file", required=False)

    class Meta:
        model = PreworkModule
        fields = ["position", "title", "minutes", "url", "body"]

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload and upload.size > settings.PREWORK_FILE_MAX_BYTES:
            limit = settings.PREWORK_FILE_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"Files can be up to {limit} MB; link to a larger one instead.")
        return upload

    def clean(self):
        data = super().clean()
        has_file = bool(self.instance.pk and self.instance.attached_file) and not data.get("remove_file")
        if not (data.get("url") or (data.get("body") or "").strip() or data.get("upload") or has_file):
            raise forms.ValidationError("Give attendees something to open: a link, instructions, or a file.")
        return data

    def _save_m2m(self):
        super()._save_m2m()
        upload = self.cleaned_data.get("upload")
        if upload:
            services.attach_prework_file(
                module=self.instance, name=upload.name, content_type=upload.content_type, data=upload.read()
            )
        elif self.cleaned_data.get("remove_file"):
            services.remove_prework_file(module=self.instance)


class PreworkModuleInline(admin.StackedInline):
    model = PreworkModule
    form = PreworkModuleForm
    extra = 0
    fields = [("position", "title", "minutes"), "url", "body", "current_file", ("upload", "remove_file")]
    readonly_fields = ["current_file"]

    @admin.display(description="Attached file")
    def current_file(self, obj):
        attached = obj.attached_file if obj and obj.pk else None
        return f"{attached.name} ({attached.size_label})" if attached else "None"


PRICE_HELP = "Price per seat in dollars, e.g. 120."


class PriceTierInline(RowLabelsMixin, StaffFormsMixin, admin.TabularInline):
    model = PriceTier
    formset = PriceTierFormSet
    extra = 0
    min_num = 1
    fields = ["min_seats", "unit_price_cents"]
    money_help = {"unit_price_cents": PRICE_HELP}


class AffinityGroupInline(RowLabelsMixin, admin.TabularInline):
    model = AffinityGroup
    extra = 0
    fields = ["position", "label", "description", "facilitator_list"]
    readonly_fields = ["facilitator_list"]
    verbose_name = "affinity group"
    verbose_name_plural = "Affinity groups offered (in your own words)"

    @admin.display(description="Facilitators")
    def facilitator_list(self, obj):
        if not obj.pk:
            return "Save first, then add facilitators."
        names = ", ".join(f.display_name for f in obj.facilitators.all()) or "none yet"
        return format_html(
            '{} · <a href="{}">edit facilitators</a>', names, reverse("admin:workshops_affinitygroup_change", args=[obj.pk])
        )


class LocalTimeZoneMixin:
    """Staff read and type times in the zone of the workshop or cohort they edit (Pacific), not UTC.

    `zone_owner(object_id)` says whose zone: the workshop or cohort (anything with `tz`), or None.
    The page says so once, above the form.
    """

    def zone_owner(self, object_id):
        raise NotImplementedError

    def zone_for_new(self, request):
        """On an add page: the zone the form has chosen (its workshop or cohort, or its own time zone), or None
        for Pacific. Without it a session added to a New York workshop would be read in Pacific time."""
        return None

    def _zone_owner(self, object_id):
        try:
            return self.zone_owner(object_id)
        except (ValueError, ValidationError, OverflowError):
            return None  # not an id at all ("abc" typed in the address): admin itself says nothing has it

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        owner = self._zone_owner(object_id) if object_id else None
        zone = owner.tz if owner else (None if object_id else self.zone_for_new(request))
        zone = zone or zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
        extra_context = {"zone_note": zone_note(zone), **(extra_context or {})}
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # Render while the zone is active; a lazy TemplateResponse would render in UTC.
            if hasattr(response, "render"):
                response.render()
            return response


def chosen_zone(request, field: str, model=None):
    """The zone an add form names in `field` (posted, or ?field= in the address): a zone itself, or the id of a
    `model` row with a `tz` (a workshop, a cohort). None when nothing usable is chosen."""
    raw = (request.POST.get(field) or request.GET.get(field) or "").strip()
    if model is None:
        return zoneinfo.ZoneInfo(raw) if schedule.known_zone(raw) else None
    pk = row_id(raw)
    if pk is None:
        return None
    owner = model.objects.filter(pk=pk).first()
    return owner.tz if owner else None


@admin.register(Workshop)
class WorkshopAdmin(LocalTimeZoneMixin, StaffFormsMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "first_session_start", "capacity", "is_published", "time_zone"]
    list_filter = ["is_published", "is_listed", "platform", "time_zone"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "created_at"
    inlines = [SessionInline, PreworkModuleInline, PriceTierInline, AffinityGroupInline]
    actions = ["duplicate_for_next_year"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "is_published", "is_listed", "summary", "description"]}),
        ("Outcomes and audience", {"fields": ["outcomes", "audiences"]}),
        ("Format", {"fields": ["prework_hours", "live_hours", "platform", "time_zone"]}),
        (
            "Registration",
            {
                "fields": [
                    "capacity",
                    "invoice_hold_percent",
                    "registration_opens_at",
                    "registration_closes_at",
                    "seat_changes_close_hours",
                    "session_link_lead_minutes",
                ]
            },
        ),
        ("Affinity groups and breakout rooms", {"fields": ["breakout_room_size", "affinity_choice_close_hours"]}),
        (
            "Facilitators",
            {
                "fields": ["facilitators"],
                "description": "Staff accounts with the Facilitator role see the roster of the workshops they are "
                "listed on here, or whose affinity groups they facilitate (read-only, with access needs), and no other.",
            },
        ),
    ]
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "facilitators":
            kwargs["queryset"] = db_field.related_model.objects.filter(is_staff=True, is_active=True).order_by("username")
            # Checkboxes, not admin's two-box widget: that one sets inline styles the CSP blocks and
            # gives its search icons ARIA attributes axe refuses.
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def zone_owner(self, object_id):
        return Workshop.objects.filter(pk=object_id).first()

    def zone_for_new(self, request):
        return chosen_zone(request, "time_zone")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("sessions")

    @admin.display(description="First session")
    def first_session_start(self, obj):
        first = obj.first_session
        if not first:
            return "–"
        return timezone.localtime(first.starts_at, obj.tz).strftime("%b %-d, %Y, %-I:%M %p %Z")

    @admin.action(description="Duplicate for next year (unpublished copy)", permissions=["add"])
    def duplicate_for_next_year(self, request, queryset):
        for workshop in queryset:
            copy = services.duplicate_workshop(workshop=workshop)
            self.message_user(request, f"Created “{copy}” ({copy.slug}), unpublished, one year later.", messages.SUCCESS)


@admin.register(Session)
class SessionAdmin(LocalTimeZoneMixin, StaffFormsMixin, admin.ModelAdmin):
    list_display = ["title", "workshop", "starts", "ends"]
    list_filter = ["workshop"]
    list_select_related = ["workshop"]
    search_fields = ["title", "workshop__title"]
    date_hierarchy = "starts_at"

    def zone_owner(self, object_id):
        session = Session.objects.select_related("workshop").filter(pk=object_id).first()
        return session.workshop if session else None

    def zone_for_new(self, request):
        return chosen_zone(request, "workshop", Workshop)

    @admin.display(description="Starts (workshop time)", ordering="starts_at")
    def starts(self, obj):
        return _in_workshop_zone(obj.starts_at, obj.workshop)

    @admin.display(description="Ends", ordering="ends_at")
    def ends(self, obj):
        return _in_workshop_zone(obj.ends_at, obj.workshop)


def _in_workshop_zone(value, workshop) -> str:
    return timezone.localtime(value, workshop.tz).strftime("%a %b %-d, %Y, %-I:%M %p %Z")


@admin.register(PreworkModule)
class PreworkModuleAdmin(admin.ModelAdmin):
    form = PreworkModuleForm
    fields = ["workshop", "position", "title", "minutes", "url", "body", "current_file", "upload", "remove_file"]
    readonly_fields = ["current_file"]
    current_file = PreworkModuleInline.current_file
    list_display = ["title", "workshop", "minutes", "position"]
    list_filter = ["workshop"]
    list_select_related = ["workshop"]
    search_fields = ["title", "workshop__title"]


@admin.register(PriceTier)
class PriceTierAdmin(StaffFormsMixin, admin.ModelAdmin):
    list_display = ["workshop", "min_seats", "unit_price"]
    money_help = {"unit_price_cents": PRICE_HELP}
    list_filter = ["workshop"]
    list_select_related = ["workshop"]
    search_fields = ["workshop__title"]

    @admin.display(description="Price per seat", ordering="unit_price_cents")
    def unit_price(self, obj):
        return usd(obj.unit_price_cents)


class AffinityFacilitatorInline(RowLabelsMixin, admin.TabularInline):
    model = AffinityFacilitator
    extra = 1
    fields = ["user", "name", "email"]


@admin.register(AffinityGroup)
class AffinityGroupAdmin(admin.ModelAdmin):
    """A group's label, description and order, and who facilitates it (their logins see its rooms)."""

    list_display = ["label", "workshop", "position", "facilitator_names"]
    list_filter = ["workshop"]
    list_select_related = ["workshop"]
    search_fields = ["label", "workshop__title", "facilitators__name", "facilitators__email"]
    fields = ["workshop", "label", "description", "position"]
    inlines = [AffinityFacilitatorInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("facilitators__user")

    @admin.display(description="Facilitators")
    def facilitator_names(self, obj):
        return ", ".join(f.display_name for f in obj.facilitators.all()) or "–"
