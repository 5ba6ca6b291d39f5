"""Policy pages and "email me my links"."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_http_methods

from registrations.ratelimit import client_address

from .forms import LinksRequestForm
from .models import PolicyPage
from .services import TooManyRequestsError, request_links


def policy_page(request: HttpRequest, kind: str) -> HttpResponse:
    page = PolicyPage.objects.filter(kind=kind).first()
    if page is None:
        raise Http404("No such policy page")
    return render(request, "support/policy_page.html", {"page": page})


@require_http_methods(["GET", "POST"])
def links_request(request: HttpRequest) -> HttpResponse:
    """Ask for every link an email can reach; the answer is the same for any email."""
    form = LinksRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                request_links(email=form.cleaned_data["email"], client_address=client_address(request))
            except TooManyRequestsError:
                form.add_error(
                    "email",
                    "We have sent links several times in the last hour. Please check your inbox and spam folder, "
                    f"wait an hour and try again, or write to {settings.CONTACT_EMAIL}.",
                )
                status = 429
            else:
                return redirect("support:links_sent")
        else:
            status = 400
    return render(request, "support/links_request.html", {"form": form}, status=status)


def links_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "support/links_sent.html")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; send them to the static file."""
    return redirect(static("favicon.ico"), permanent=True)
