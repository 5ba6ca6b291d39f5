"""Policy pages and "email me my links"."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
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
