"""The course page, joining the waitlist, an entry's private page, and paying once invited."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from guard import ratelimit
from guard.ratelimit import RateLimitedError
from registrations.errors import RegistrationError
from registrations.stripe.client import PaymentProviderError
from registrations.views.common import PAYMENT_DOWN_MESSAGE
from workshops.placed_messages import placed_redirect

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


def _joined_message(email: str) -> str:
    # Word for word the same for every address, known or not: the page must not tell anyone who is on the list.
    return (
        f"Thank you. We have emailed the link to your waitlist page to {email}. The page shows your place in "
        "line, and it is where you change your details or leave. If nothing arrives in a few minutes, "
        "check your spam folder."
    )


@require_http_methods(["GET", "POST"])
def cohort_detail(request: HttpRequest, slug: str) -> HttpResponse:
    cohort = get_object_or_404(cohorts_for_pages(), slug=slug)
    form = WaitlistForm(request.POST if request.method == "POST" else None)
    status = 400
    if form.is_bound and form.is_valid():
        details = form.details()
        try:
            if cohort.accepts_waitlist:
                ratelimit.check(request, scope="waitlist_join", emails=[details.email])
            services.join_waitlist(cohort=cohort, details=details)
        except RateLimitedError as exc:
            form.add_error(None, str(exc))
            status = 429
        except services.WaitlistError as exc:
            form.add_error(None, str(exc))
        else:
            # Shown in the waitlist card the redirect lands on, not at the top of the page above it.
            return placed_redirect(request, messages.SUCCESS, _joined_message(details.email), f"{cohort.get_absolute_url()}#waitlist")
    return render(
        request,
        "cohorts/cohort_detail.html",
        {"cohort": cohort, "workshop": cohort.prerequisite_workshop, "form": form},
        status=status if form.is_bound else 200,
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
        return _status_page(request, entry, WaitlistForm(entry=entry))
    form = WaitlistForm(request.POST, entry=entry)
    status = 400
    if form.is_valid():
        details = form.details()
        try:
            if details.email.strip().lower() != entry.email.lower():
                ratelimit.check(request, scope="waitlist_email_change", emails=[details.email])
            result = services.update_entry(entry=entry, details=details)
        except RateLimitedError as exc:
            form.add_error(None, str(exc))
            status = 429
        except services.WaitlistError as exc:
            form.add_error(exc.field, str(exc))
        else:
            text = "Your details are updated. Your place in line has not changed."
            if result.pending_email:
                text += (
                    f" We have emailed a confirmation link to {result.pending_email}: your email address changes "
                    "when it is opened, and your new private link is sent there."
                )
            messages.success(request, text)
            return redirect(entry.get_absolute_url())
    return _status_page(request, entry, form, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """The owner of a new address confirms it: a button, since mail scanners open links by themselves."""
    if request.method == "POST":
        try:
            entry = services.confirm_email_change(signed=token)
        except services.WaitlistError as exc:
            return render(request, "cohorts/waitlist_confirm_email.html", {"error": str(exc)}, status=400)
        messages.success(request, "Your email address is confirmed. This is your waitlist page; its new link is in your inbox.")
        return redirect(entry.get_absolute_url())
    return render(request, "cohorts/waitlist_confirm_email.html", {"error": ""})


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
