"""Breakout rooms per live session: the plan, staff's moves, the Zoom pre-assignment CSV and a printable plan.

Coordinators (`view_breakout_plan`, `move_breakout_rooms`) see and change every group's rooms; facilitators
(`view_own_breakout_rooms`) see only the rooms of the groups they are linked to, with access needs.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from registrations.errors import BreakoutError, ZoomExportError
from registrations.selectors.breakout import (
    ZOOM_MAX_ROOMS,
    ZOOM_MAX_ROWS,
    Plan,
    breakout_plan,
    breakout_sessions,
    facilitated_group_ids,
    zoom_rows,
)
from registrations.services.affinity import mark_not_attending, move_to_room, reset_placement

from .. import exports
from ..affinity_forms import BreakoutMoveForm
from ..models import BreakoutPlan

FULL = "registrations.view_breakout_plan"
MOVE = "registrations.move_breakout_rooms"
OWN = "registrations.view_own_breakout_rooms"


def _when(session) -> str:
    tz = session.workshop.tz
    start, end = timezone.localtime(session.starts_at, tz), timezone.localtime(session.ends_at, tz)
    return f"{start:%A, %B %-d, %Y, %-I:%M}–{end:%-I:%M %p %Z}"


def _move_form(plan: Plan, data=None) -> BreakoutMoveForm:
    people: dict[str, list[tuple[int, str]]] = {}
    for where, member in plan.members():
        people.setdefault(where, []).append((member.seat.pk, member.name))
    targets = [
        (
            g.group.label,
            [(f"room:{g.group.pk}:{room.number}", f"{room.name} ({len(room.members)} of {plan.room_size})") for room in g.rooms]
            + [(f"room:{g.group.pk}:{g.next_room_number}", f"{g.group.label} {g.next_room_number} (a new room)")],
        )
        for g in plan.groups
    ]
    return BreakoutMoveForm(data, people=list(people.items()), targets=targets)


@admin.register(BreakoutPlan)
class BreakoutPlanAdmin(admin.ModelAdmin):
    list_display = ["session", "workshop", "starts", "plan_links"]
    list_display_links = None
    list_filter = [("workshop", admin.RelatedOnlyFieldListFilter)]  # a facilitator sees only their workshops
    search_fields = ["title", "workshop__title"]

    # Who may see what -------------------------------------------------------------------------------------
    def _full(self, request) -> bool:
        return request.user.has_perm(FULL)

    def _groups_for(self, request, session) -> set[int] | None:
        """None: every group (coordinator); else the ids of the groups this facilitator leads in that workshop."""
        if self._full(request):
            return None
        if request.user.has_perm(OWN):
            groups = facilitated_group_ids(user=request.user, workshop=session.workshop)
            if groups:
                return groups
        raise PermissionDenied

    def has_module_permission(self, request):
        return self._full(request) or request.user.has_perm(OWN)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return breakout_sessions(facilitator=None if self._full(request) else request.user)

    # The list of sessions ---------------------------------------------------------------------------------
    @admin.display(description="Session", ordering="starts_at")
    def session(self, obj):
        return obj.title

    @admin.display(description="Starts", ordering="starts_at")
    def starts(self, obj):
        return _when(obj)

    @admin.display(description="Breakout rooms")
    def plan_links(self, obj):
        return format_html(
            '<a href="{}">Plan</a> · <a href="{}">Printable plan</a>',
            reverse("admin:registrations_breakoutplan_change", args=[obj.pk]),
            reverse("admin:registrations_breakoutplan_print", args=[obj.pk]),
        )

    # One session's plan -----------------------------------------------------------------------------------
    def get_urls(self):
        own = [
            path("<int:object_id>/zoom.csv", self.admin_site.admin_view(self.zoom_csv), name="registrations_breakoutplan_zoom"),
            path("<int:object_id>/print/", self.admin_site.admin_view(self.print_view), name="registrations_breakoutplan_print"),
        ]
        return own + super().get_urls()

    def _session(self, request, object_id):
        if not self.has_module_permission(request):
            raise PermissionDenied
        session = self.get_queryset(request).filter(pk=object_id).first()
        if session is None:
            raise Http404("No such session")
        return session, self._groups_for(request, session)

    def _plan(self, session, groups: set[int] | None) -> Plan:
        plan = breakout_plan(session=session)
        return plan if groups is None else plan.only_groups(groups)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        session, groups = self._session(request, object_id)
        can_move = groups is None and request.user.has_perm(MOVE) and timezone.now() < session.starts_at
        move_form = None
        if request.method == "POST":
            if not can_move:
                raise PermissionDenied
            moved, move_form = self._move(request, session)
            if moved:
                return redirect("admin:registrations_breakoutplan_change", session.pk)
        plan = self._plan(session, groups)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Breakout rooms: {session.workshop.title}, {session.title}",
            "opts": self.model._meta,
            "session": session,
            "when": _when(session),
            "plan": plan,
            "is_facilitator_view": groups is not None,
            # After a refused move, the form as it was sent: the person and the place chosen stay selected.
            "move_form": (move_form or _move_form(plan)) if can_move else None,
            "has_started": timezone.now() >= session.starts_at,
            "zoom_max_rooms": ZOOM_MAX_ROOMS,
            "zoom_max_rows": ZOOM_MAX_ROWS,
        }
        return TemplateResponse(request, "registrations/admin/breakout_plan.html", context)

    def _move(self, request, session) -> tuple[bool, BreakoutMoveForm]:
        """Carry out a move; returns (moved, the form as sent). A refused move is said in a message."""
        plan = breakout_plan(session=session)
        form = _move_form(plan, request.POST)
        if not form.is_valid():
            self.message_user(request, "Choose a person and where to move them.", messages.ERROR)
            return False, form
        seat_id, target = form.cleaned_data["seat"], form.cleaned_data["target"]
        by = request.user.get_username()
        try:
            if target == BreakoutMoveForm.ABSENT:
                mark_not_attending(session=session, seat_id=seat_id, by=by)
            elif target == BreakoutMoveForm.RESET:
                reset_placement(session=session, seat_id=seat_id)
            else:
                group_id, number = form.room()
                group = next((g.group for g in plan.groups if g.group.pk == group_id), None)
                if group is None:
                    raise BreakoutError("That group is not offered for this workshop.")
                move_to_room(session=session, seat_id=seat_id, group=group, room_number=number, by=by)
        except BreakoutError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return False, form
        name = next((m.name for _, m in plan.members() if m.seat.pk == seat_id), "")
        after = breakout_plan(session=session)
        room = after.room_of(seat_id)
        where = room.name if room else ("not attending" if target == BreakoutMoveForm.ABSENT else "not chosen")
        self.message_user(request, f"{name} is now in: {where}.", messages.SUCCESS)
        return True, form

    def zoom_csv(self, request, object_id):
        session, groups = self._session(request, object_id)
        if groups is not None:
            raise PermissionDenied
        try:
            rows = zoom_rows(breakout_plan(session=session))
        except ZoomExportError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect("admin:registrations_breakoutplan_change", session.pk)
        local = timezone.localtime(session.starts_at, session.workshop.tz)
        filename = f"zoom-breakout-rooms-{session.workshop.slug}-{local:%Y-%m-%d}.csv"
        return exports.zoom_csv_response(filename=filename, rows=rows)

    def print_view(self, request, object_id):
        session, groups = self._session(request, object_id)
        context = {
            "session": session,
            "workshop": session.workshop,
            "when": _when(session),
            "plan": self._plan(session, groups),
            "is_facilitator_view": groups is not None,
            "printed_at": timezone.localtime(timezone.now(), session.workshop.tz),
        }
        response: HttpResponse = TemplateResponse(request, "registrations/admin/breakout_print.html", context)
        response["Cache-Control"] = "no-store"
        return response
