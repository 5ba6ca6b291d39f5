"""Policy pages, "email me my links", and the error pages (each naming how to reach us)."""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_http_methods

from guard import ratelimit

from .forms import LinksRequestForm
from .models import PolicyPage
from .services import request_links


def policy_page(request: HttpRequest, kind: str) -> HttpResponse:
    page = PolicyPage.objects.filter(kind=kind).first()
    if page is None:
        raise Http404("No such policy page")
    return render(request, "support/policy_page.html", {"page": page})


def _links_limit() -> ratelimit.Limit:
    return ratelimit.Limit(
        per_address=settings.LINKS_REQUESTS_PER_IP_PER_HOUR,
        per_email=settings.LINKS_REQUESTS_PER_EMAIL_PER_HOUR,
        window_seconds=3600,
    )


@require_http_methods(["GET", "POST"])
def links_request(request: HttpRequest) -> HttpResponse:
    """Ask for every link an email can reach; the answer is the same for any email."""
    form = LinksRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                # The shared counters of every other form: atomic across app servers, one per inbox ("+tags" too).
                ratelimit.check(request, scope="links", emails=[email], limit=_links_limit())
            except ratelimit.RateLimitedError:
                form.add_error(
                    "email",
                    "We have sent links several times in the last hour. Please check your inbox and spam folder, "
                    f"wait an hour and try again, or write to {settings.CONTACT_EMAIL}.",
                )
                status = 429
            else:
                request_links(email=email)
                return redirect("support:links_sent")
        else:
            status = 400
    return render(request, "support/links_request.html", {"form": form}, status=status)


def links_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "support/links_sent.html")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; send them to the static file."""
    return redirect(static("favicon.ico"), permanent=True)


logger = logging.getLogger(__name__)

# The last resort when even the error template cannot be rendered: no template, no database, no URL lookup.
FALLBACK_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>'
    "<body><main><h1>{title}</h1><p>{text}</p>"
    '<p>Write to <a href="mailto:{email}">{email}</a> and we will help, or '
    '<a href="/links/">have us email you your links</a>.</p><p><a href="/">Go to the home page</a></p></main></body></html>'
)


def _plain_page(*, status: int, title: str, text: str) -> HttpResponse:
    email = escape(settings.CONTACT_EMAIL)
    content = FALLBACK_PAGE.format(title=escape(title), text=escape(text), email=email)
    return HttpResponse(content, status=status, content_type="text/html; charset=utf-8")


def _standalone_page(template: str, *, status: int, title: str, text: str) -> HttpResponse:
    """An error page that needs no request, context processor or database (the request may be the problem)."""
    try:
        context = {
            "contact_email": settings.CONTACT_EMAIL, "site_name": settings.SITE_NAME, "links_url": reverse("support:links")
        }
        return HttpResponse(render_to_string(template, context), status=status, content_type="text/html; charset=utf-8")
    except Exception:
        # An error page must answer whatever broke, even its own template.
        logger.exception("The %s page could not be rendered; sending the plain one", status)
        return _plain_page(status=status, title=title, text=text)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: what went wrong is unknown, so the page uses nothing that might have failed."""
    return _standalone_page(
        "500.html", status=500, title="Something went wrong on our side",
        text="Nothing you entered has been charged twice or lost. Please try again in a minute.",
    )


@requires_csrf_token
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """handler400: the request itself was refused (an unknown host name, a malformed form), so it is not read."""
    return _standalone_page(
        "400.html", status=400, title="We could not read that request",
        text="Something in the link or the form did not arrive as expected. Please go back and try again.",
    )


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """handler403: the site's own page, or the plain one if that cannot be rendered."""
    try:
        return render(request, "403.html", status=403)
    except Exception:
        logger.exception("The 403 page could not be rendered; sending the plain one")
        return _plain_page(status=403, title="You cannot open this page", text="This page is not open to you.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent without its security token (a page left open for long, or cookies blocked)."""
    try:
        return render(request, "403_csrf.html", status=403)
    except Exception:
        logger.exception("The expired-form page could not be rendered; sending the plain one")
        return _plain_page(status=403, title="This form has expired", text="Reload the page and send the form again.")
