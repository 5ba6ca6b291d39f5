"""One attendee's page: pre-work, sessions in their own time zone and calendar files, and certificates with their public check."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from registrations.errors import (
    CertificateError,
    PreworkError,
    SeatChangeError,
)
from registrations.selectors.progress import (
    certificate_for_code,
    prework_file_for_seat,
    prework_module_done,
    prework_module_for_seat,
    seat_overview,
    session_for_seat,
)
from registrations.selectors.breakout import affinity_for_seat
from registrations.services.learning import issue_certificate, set_prework_done
from registrations.services.seats import set_seat_time_zone
from workshops.placed_messages import placed_redirect
from workshops.schedule import zone_name

from .. import certificates, ics
from ..affinity_forms import AffinityChoiceForm
from ..forms import (
    PreworkMarkForm,
    SeatTimeZoneForm,
)
from ..models import Certificate
from .common import _seat_or_404


@require_GET
def seat_detail(request: HttpRequest, token: str) -> HttpResponse:
    return render_seat_page(request, _seat_or_404(token))


def render_seat_page(
    request: HttpRequest, seat, *, affinity_form=None, time_zone_form=None, status: int = 200
) -> HttpResponse:
    """The attendee's page; `affinity_form` or `time_zone_form` when that form comes back with a problem."""
    overview = seat_overview(seat=seat)
    affinity = affinity_for_seat(seat=seat)
    workshop = seat.order.workshop
    return render(
        request,
        "registrations/seat_detail.html",
        {
            "seat": seat,
            "order": seat.order,
            "workshop": workshop,
            "overview": overview,
            "affinity": affinity,
            "affinity_form": affinity_form or seat_affinity_form(affinity),
            "reader_zone": seat.reader_time_zone,
            "time_zone_form": time_zone_form or seat_time_zone_form(seat),
        },
        status=status,
    )


def seat_time_zone_form(seat, data=None) -> SeatTimeZoneForm:
    return SeatTimeZoneForm(
        data, initial={"time_zone": seat.reader_time_zone}, workshop_zone_name=zone_name(seat.order.workshop.time_zone)
    )


@require_POST
def seat_time_zone(request: HttpRequest, token: str) -> HttpResponse:
    """The attendee chooses their own time zone; their page and our emails to them then show their time too."""
    seat = _seat_or_404(token)
    form = seat_time_zone_form(seat, request.POST)
    if form.is_valid():
        try:
            set_seat_time_zone(seat=seat, zone=form.cleaned_data["time_zone"])
        except SeatChangeError as exc:
            form.add_error("time_zone", str(exc))
        else:
            return placed_redirect(request, messages.SUCCESS, _time_zone_saved(seat), f"{seat.get_absolute_url()}#time-zone")
    return render_seat_page(request, seat, time_zone_form=form, status=400)


def _time_zone_saved(seat) -> str:
    workshop_zone = zone_name(seat.order.workshop.time_zone)
    if not seat.time_zone:
        return f"Saved: times are shown in {workshop_zone} only."
    return f"Saved: your time zone is {zone_name(seat.time_zone)}. This page and our emails to you show your time beside {workshop_zone}."


def seat_affinity_form(affinity, data=None) -> AffinityChoiceForm:
    return AffinityChoiceForm(
        data,
        groups=affinity.groups,
        group_open=affinity.is_open,
        current=affinity.group,
        initial={"group": affinity.group.pk if affinity.group else "", "zoom_email": affinity.zoom_email},
    )


@require_http_methods(["GET", "POST"])
def seat_prework(request: HttpRequest, token: str, module_id: int) -> HttpResponse:
    """One pre-work module: its instructions, link and file, and the button to mark it done."""
    seat = _seat_or_404(token)
    try:
        module = prework_module_for_seat(seat=seat, module_id=module_id)
    except ObjectDoesNotExist:
        raise Http404("No such module") from None
    if request.method == "GET":
        return render(
            request,
            "registrations/prework_module.html",
            {"seat": seat, "order": seat.order, "workshop": seat.order.workshop, "module": module,
             "done": prework_module_done(seat=seat, module=module)},
        )
    form = PreworkMarkForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Use the “Mark as done” or “Undo” button.", content_type="text/plain")
    place = f"{seat.get_absolute_url()}#module-{module.pk}"
    try:
        set_prework_done(seat=seat, module=module, done=form.cleaned_data["done"])
    except PreworkError as exc:
        return placed_redirect(request, messages.ERROR, str(exc), place)
    # Said where focus lands (the module's card), so a screen reader announces it, not only a badge that appears.
    done = "marked as done" if form.cleaned_data["done"] else "no longer marked as done"
    return placed_redirect(request, messages.SUCCESS, f"“{module.title}” is {done}.", place)


@require_GET
def seat_prework_file(request: HttpRequest, token: str, module_id: int) -> HttpResponse:
    """The file staff attached to a module, for this seat's attendee only."""
    seat = _seat_or_404(token)
    try:
        attached = prework_file_for_seat(seat=seat, module_id=module_id)
    except ObjectDoesNotExist:
        raise Http404("No such file") from None
    response = HttpResponse(bytes(attached.data), content_type=attached.content_type)
    # Always a download: a staff-uploaded HTML file must never run as a page of this site.
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=attached.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def seat_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """Every session of the seat's workshop as one calendar file."""
    seat = _seat_or_404(token)
    sessions = seat.order.workshop.session_list
    return _ics_response(ics.seat_calendar(seat=seat, sessions=sessions), f"{seat.order.workshop.slug}.ics")


@require_GET
def seat_session_calendar(request: HttpRequest, token: str, number: int) -> HttpResponse:
    seat = _seat_or_404(token)
    try:
        session = session_for_seat(seat=seat, number=number)
    except ObjectDoesNotExist:
        raise Http404("No such session") from None
    return _ics_response(
        ics.seat_calendar(seat=seat, sessions=[session]), f"{seat.order.workshop.slug}-session-{number}.ics"
    )


@require_GET
def seat_certificate(request: HttpRequest, token: str) -> HttpResponse:
    """The attendee's certificate PDF, issued the first time they ask once they have completed everything."""
    seat = _seat_or_404(token)
    try:
        certificate = issue_certificate(seat=seat)
    except CertificateError as exc:
        return placed_redirect(request, messages.ERROR, str(exc), f"{seat.get_absolute_url()}#certificate")
    response = HttpResponse(certificates.certificate_pdf(certificate=certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    return response


@require_GET
def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public check of a verification code. A revoked certificate, or one for a refunded seat, answers 410."""
    try:
        certificate = certificate_for_code(code)
    except Certificate.DoesNotExist:
        raise Http404("No such certificate") from None
    workshop = certificate.seat.order.workshop
    return render(
        request,
        "registrations/certificate_verify.html",
        {
            "certificate": certificate,
            "workshop": workshop,
            "dates": certificates.session_dates(workshop, workshop.session_list),
            "site_name": settings.SITE_NAME,
        },
        status=410 if certificate.is_revoked or certificate.is_refunded else 200,
    )
