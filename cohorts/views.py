"""The course page, joining the waitlist, an entry's private page, and paying once invited."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from registrations.errors import RegistrationError
from registrations.stripe.client import PaymentProviderError
from registrations.views.common import PAYMENT_DOWN_MESSAGE

from . import services
from .forms import WaitlistForm
from .models import WaitlistEntry
from .selectors import (
    attach_prerequisite_met,
    cohorts_for_pages,
    entry_for_token,
    place_in_line,
)


def _entry_or_404(token: str) -> WaitlistEntry:
    try:
        return entry_for_token(token)
    except WaitlistEntry.DoesNotExist:
        raise Http404("No such waitlist entry") from None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@require_http_methods(["GET", "POST"])
def cohort_detail(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = get_object_or_404(cohorts_for_pages(), slug=slug)
    form = WaitlistForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            result = services.join_waitlist(cohort=cohort, details=form.details())
        except services.WaitlistError as exc:
            form.add_error(None, str(exc))
        else:
            place = f" You are {_ordinal(result.place)} in line." if result.place else ""
            if result.outcome == "joined":
                messages.success(request, f"You're on the waitlist.{place} We've emailed you a link to this page.")
                return redirect(result.entry.get_absolute_url())
            # The address was already on the list: the private page link goes only to that inbox,
            # never to whoever typed it here.
            if result.outcome == "rejoined":
                text = f"Welcome back: you're on the waitlist again, at the end of the line.{place}"
            elif result.outcome == "unchanged":
                text = "This email has already been invited from the waitlist, so nothing was changed here."
            else:
                text = (
                    "This email was already on the waitlist, so we updated those details instead of adding it twice."
                    f"{place}"
                )
            messages.info(request, f"{text} We've emailed the link to your waitlist page to that address.")
            return redirect(f"{cohort.get_absolute_url()}#waitlist")
    return render(
        request,
        "cohorts/cohort_detail.html",
        {"cohort": cohort, "workshop": cohort.prerequisite_workshop, "form": form},
        status=400 if form.is_bound else 200,
    )


def _status_page(request, entry: WaitlistEntry, form: WaitlistForm, status: int = 200) -> HttpResponse:
    attach_prerequisite_met([entry])
    return render(
        request,
        "cohorts/waitlist_status.html",
        {
            "entry": entry,
            "cohort": entry.cohort,
            "workshop": entry.cohort.prerequisite_workshop,
            "place": place_in_line(entry=entry),
            "form": form,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_status(request: HttpRequest, token: str) -> HttpResponse:
    entry = _entry_or_404(token)
    services.sync_enrolment(entry=entry)
    if request.method != "POST":
        return _status_page(request, entry, WaitlistForm(initial=WaitlistForm.initial_for(entry)))
    form = WaitlistForm(request.POST)
    if form.is_valid():
        try:
            services.update_entry(entry=entry, details=form.details())
        except services.EmailTakenError as exc:
            form.add_error("email", str(exc))
        except services.WaitlistError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Your details are updated. Your place in line has not changed.")
            return redirect(entry.get_absolute_url())
    return _status_page(request, entry, form, status=400)


@require_POST
def waitlist_leave(request: HttpRequest, token: str) -> HttpResponse:
    entry = _entry_or_404(token)
    if services.withdraw(entry=entry):
        messages.info(request, "You have left the waitlist. You can rejoin from this page at any time.")
    return redirect(entry.get_absolute_url())


@require_POST
def waitlist_rejoin(request: HttpRequest, token: str) -> HttpResponse:
    entry = _entry_or_404(token)
    try:
        changed = services.rejoin(entry=entry)
    except services.WaitlistClosedError as exc:
        messages.error(request, str(exc))
    else:
        if changed:
            messages.success(request, "You're back on the waitlist, at the end of the line.")
    return redirect(entry.get_absolute_url())


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_invitation(request: HttpRequest, token: str) -> HttpResponse:
    entry = _entry_or_404(token)
    services.sync_enrolment(entry=entry)
    if request.method == "POST":
        try:
            if services.confirm_seat(entry=entry):
                messages.success(request, "Thank you: your seat request is confirmed. We will be in touch with next steps.")
        except services.NotInvitedError as exc:
            messages.error(request, str(exc))
        return redirect(entry.get_invitation_url())
    return render(
        request,
        "cohorts/waitlist_invitation.html",
        {
            "entry": entry,
            "cohort": entry.cohort,
            "workshop": entry.cohort.prerequisite_workshop,
            "course_quote": services.course_quote(entry=entry),
            "course_order": services.course_order(entry=entry),
        },
    )


@require_POST
def waitlist_pay(request: HttpRequest, token: str) -> HttpResponse:
    """Pay for the course seats through the site's one checkout (holds, Stripe, webhooks)."""
    entry = _entry_or_404(token)
    try:
        url = services.start_enrolment(entry=entry)
    except (services.WaitlistError, RegistrationError) as exc:
        messages.error(request, str(exc))
    except PaymentProviderError:
        messages.error(request, PAYMENT_DOWN_MESSAGE)
    else:
        return redirect(url)
    return redirect(entry.get_invitation_url())
