"""The site's absolute address for links in emails, documents and Stripe redirects.

Production sets SITE_URL. A developer who leaves it unset (`make run PORT=8001`) gets links
built from the request being served, so they point at whatever host and port the browser used;
work done outside a request (the email worker, reminders) falls back to LOCAL_SITE_URL.
Hosts come from Django's validated `request.get_host()`, so only ALLOWED_HOSTS can appear.
"""

from contextvars import ContextVar

from django.conf import settings

_request_base: ContextVar[str] = ContextVar("request_site_url", default="")


def site_url() -> str:
    """'https://register.example.org', without a trailing slash."""
    return settings.SITE_URL or _request_base.get() or settings.LOCAL_SITE_URL


def absolute(path: str) -> str:
    return f"{site_url()}{path}"


class RequestSiteURLMiddleware:
    """With no SITE_URL, remember this request's scheme and host for the links built while serving it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SITE_URL:
            return self.get_response(request)
        token = _request_base.set(f"{request.scheme}://{request.get_host()}")
        try:
            return self.get_response(request)
        finally:
            _request_base.reset(token)
