"""The home page, workshop pages and /healthz/."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

# Availability (paid seats plus live holds) is registrations' knowledge; the catalog asks its selector.
from registrations.selectors.availability import catalog_with_availability, with_seat_counts

from .selectors import catalog_workshop_or_404


def home(request: HttpRequest) -> HttpResponse:
    from cohorts.selectors import featured_cohort

    now = timezone.now()
    workshops = list(catalog_with_availability())
    upcoming = [w for w in workshops if w.first_session and w.first_session.starts_at > now]
    upcoming.sort(key=lambda w: w.first_session.starts_at)
    return render(
        request,
        "workshops/home.html",
        {"workshop": upcoming[0] if upcoming else None, "more_workshops": upcoming[1:], "cohort": featured_cohort()},
    )


def workshop_detail(request: HttpRequest, slug: str) -> HttpResponse:
    from cohorts.selectors import featured_cohort

    workshop = with_seat_counts(catalog_workshop_or_404(slug))
    cohort = featured_cohort()
    # The course this workshop opens the way to, said plainly on the page.
    requiring = cohort if cohort is not None and cohort.prerequisite_workshop_id == workshop.pk else None
    return render(request, "workshops/workshop_detail.html", {"workshop": workshop, "cohort": requiring})


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
