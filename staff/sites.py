"""The admin site staff use: the operations view as its home, screens grouped by task, times in the organisation's zone."""

import zoneinfo
from functools import update_wrapper

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from workshops.models import DEFAULT_TIME_ZONE

from . import home, previews
from .navigation import SECTIONS, sections_for


UNREADABLE_SELECTION = "Nothing was done: the rows chosen were not understood. Tick them again and choose the action."


def _unreadable_selection(view, request) -> bool:
    """An action posted to a list with ticked rows that are not ids of its model ("abc"): admin's own lookup of them
    would raise (a server error), so every list refuses them here, before any action runs."""
    modeladmin = getattr(view, "__self__", None)
    if request.method != "POST" or getattr(view, "__name__", "") != "changelist_view":
        return False
    if not isinstance(modeladmin, admin.ModelAdmin):
        return False
    pk = modeladmin.model._meta.pk
    try:
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            pk.run_validators(pk.to_python(value))
    except (ValidationError, ValueError, TypeError):
        return True
    return False


class StaffAdminSite(admin.AdminSite):
    site_header = "Equity School Leadership – staff"
    site_title = "Staff admin"
    index_title = "Upcoming workshops"
    index_template = "staff/home.html"
    # Navigation is the bar of sections at the top, so lists get the full width of a laptop screen.
    enable_nav_sidebar = False

    def admin_view(self, view, cacheable=False):
        """Every staff page reads and writes times in the organisation's zone (Pacific) unless the page
        itself is about a workshop or course in another zone (LocalTimeZoneMixin); lists, their date
        filters and their rows then agree."""

        def in_zone(request, *args, **kwargs):
            if _unreadable_selection(view, request):
                messages.error(request, UNREADABLE_SELECTION)
                return HttpResponseRedirect(request.get_full_path())
            with timezone.override(zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)):
                response = view(request, *args, **kwargs)
                # Render while the zone is active; a lazy TemplateResponse would render in UTC.
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                return response

        return super().admin_view(update_wrapper(in_zone, view), cacheable)

    def get_app_list(self, request, app_label=None):
        extra = None if app_label else {"run": [previews.navigation_entry()]}
        return sections_for(self._build_app_dict(request, app_label), extra)

    # Models whose page on the site is someone's private link (their seat, their place on the waitlist): staff
    # resend it by email and never open it (README, "Privacy: who sees what").
    private_pages = ("registrations.Seat", "cohorts.WaitlistEntry")

    def view_on_site(self, request, content_type_id, object_id):
        """Admin's "View on site" (/admin/r/<type>/<id>/), which Django answers for any staff member and any object
        with a page: here only for staff who may view that kind of object, and never for a private page."""
        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except ContentType.DoesNotExist:
            raise Http404("No such kind of object.") from None
        if model is None or model._meta.concrete_model._meta.label in self.private_pages:
            raise Http404("This page is the person's own; staff resend its link by email.")
        if not request.user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
            raise Http404("No such object.")
        return shortcut(request, content_type_id, object_id)

    def get_urls(self):
        return [
            # Before admin's own, which this replaces.
            path("r/<int:content_type_id>/<path:object_id>/", self.admin_view(self.view_on_site), name="view_on_site"),
            path("section/<slug:section>/", self.admin_view(self.section_view), name="staff_section"),
            path("email-previews/", self.admin_view(self.previews_view), name="staff_email_previews"),
            path(
                "email-previews/<slug:app>/<slug:name>/",
                self.admin_view(self.preview_view),
                name="staff_email_preview",
            ),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        past = request.GET.get("when") == "past"
        context = {
            **self.each_context(request),
            **home.home_context(request, past=past),
            "title": "Past workshops" if past else self.index_title,
            "subtitle": None,
            "app_list": self.get_app_list(request),
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, self.index_template, context)

    def section_view(self, request, section):
        app_list = [s for s in self.get_app_list(request) if s["app_label"] == section]
        if not app_list:
            if section in {s.slug for s in SECTIONS}:
                raise Http404("Nothing in this section is open to you.")
            raise Http404("No such section.")
        context = {
            **self.each_context(request),
            "title": app_list[0]["name"],
            "subtitle": None,
            "app_list": app_list,
            "app_label": section,
        }
        request.current_app = self.name
        return TemplateResponse(request, "staff/section.html", context)

    def previews_view(self, request):
        context = {
            **self.each_context(request),
            "title": "Email previews",
            "subtitle": None,
            "previews": previews.catalogue(),
        }
        return TemplateResponse(request, "staff/email_previews.html", context)

    def preview_view(self, request, app, name):
        try:
            preview = previews.render(app=app, name=name, variant=request.GET.get("variant", ""))
        except previews.UnknownPreview as exc:
            raise Http404(str(exc)) from exc
        context = {
            **self.each_context(request),
            "title": f"Email preview: {preview.title}",
            "subtitle": None,
            "preview": preview,
            "previews_url": reverse("admin:staff_email_previews"),
        }
        return TemplateResponse(request, "staff/email_preview.html", context)
