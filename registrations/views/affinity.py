"""An attendee's affinity-group choice: on their seat page, and the buyer's own on the registration form."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from registrations.errors import AffinityChoiceError
from registrations.selectors.breakout import (
    affinity_choice_open,
    affinity_for_seat,
    affinity_groups,
    buyer_choice_for_order,
)
from registrations.selectors.order_pages import TOKEN_PATTERN
from registrations.services.affinity import (
    record_registration_choice,
    save_affinity_choice,
    withdraw_affinity_choice,
)
from workshops.placed_messages import placed_redirect

from ..affinity_forms import AffinityChoiceForm
from ..forms import RegistrationForm
from ..models import AffinityChoice, Order
from .attendees import render_seat_page, seat_affinity_form
from .common import _seat_or_404

REGISTRATION_PREFIX = "affinity"


@require_POST
def seat_affinity(request: HttpRequest, token: str) -> HttpResponse:
    """Save, change or withdraw the attendee's own choice, then back to their page."""
    seat = _seat_or_404(token)
    affinity = affinity_for_seat(seat=seat)
    if not affinity.offered:
        raise Http404("This workshop offers no affinity groups")
    back = f"{seat.get_absolute_url()}#affinity"
    if request.POST.get("action") == "withdraw":
        withdraw_affinity_choice(seat=seat)
        withdrawn = "Your affinity-group choice and Zoom email are withdrawn and deleted."
        return placed_redirect(request, messages.SUCCESS, withdrawn, back)
    form = seat_affinity_form(affinity, request.POST)
    if form.is_valid():
        try:
            choice = save_affinity_choice(
                seat=seat, group=form.chosen_group(), zoom_email=form.cleaned_data["zoom_email"]
            )
        except AffinityChoiceError as exc:
            form.add_error("group" if "group" in form.fields else None, str(exc))
        else:
            return placed_redirect(request, messages.SUCCESS, _saved_message(choice), back)
    return render_seat_page(request, seat, affinity_form=form, status=400)


def _saved_message(choice: AffinityChoice | None) -> str:
    if choice is None or choice.group is None:
        return "Saved: no affinity group chosen. You can choose one here until choices close."
    return f"Saved: you chose “{choice.group.label}”. Only facilitators and coordinators see this."


def registration_affinity_form(request: HttpRequest, workshop, *, validate: bool = False) -> AffinityChoiceForm | None:
    """The registration form's optional affinity section for a buyer attending themselves, or None when the
    workshop offers no groups or choices have closed. Bound (checked) only when the order is being placed, and
    then only for a buyer who attends: one who does not has no seat to choose for, so whatever the section
    still holds is neither checked nor kept."""
    if not affinity_choice_open(workshop=workshop):
        return None
    groups = affinity_groups(workshop=workshop)
    if not groups:
        return None
    if validate:
        if not _buyer_attends(request):
            return None
        return AffinityChoiceForm(request.POST, groups=groups, prefix=REGISTRATION_PREFIX)
    if request.method == "POST":  # "Update total" or a quote: show what they picked, check it when they register
        initial = {
            "group": request.POST.get(f"{REGISTRATION_PREFIX}-group", ""),
            "zoom_email": request.POST.get(f"{REGISTRATION_PREFIX}-zoom_email", ""),
        }
    else:
        initial = _initial_from_previous_order(workshop, request.GET.get("from", ""))
    return AffinityChoiceForm(initial=initial, groups=groups, prefix=REGISTRATION_PREFIX)


def _buyer_attends(request: HttpRequest) -> bool:
    """The registration form's "I will attend myself" box, read as the form reads it."""
    return RegistrationForm.base_fields["buyer_attends"].widget.value_from_datadict(request.POST, {}, "buyer_attends")


def _initial_from_previous_order(workshop, token: str) -> dict:
    """Back from a cancelled checkout (`?from=<order token>`): the buyer's own choice, never another seat's."""
    if not token or not TOKEN_PATTERN.fullmatch(token):
        return {}
    choice = buyer_choice_for_order(workshop=workshop, order_token=token)
    if choice is None:
        return {}
    return {"group": choice.group_id or "", "zoom_email": choice.zoom_email}


def record_buyer_choice(order: Order, form: AffinityChoiceForm | None) -> None:
    """After the order is placed: keep the buyer's own choice on their seat (none when they do not attend)."""
    if form is None or not order.buyer_attends or not form.is_valid():
        return
    record_registration_choice(order=order, group=form.chosen_group(), zoom_email=form.cleaned_data["zoom_email"])
