"""Serve the public pages from a seconds-long cache during a registration rush.

When a workshop is announced, hundreds of people load the same few pages within minutes. Each
process keeps an anonymous visitor's rendering of those pages for PUBLIC_PAGE_CACHE_SECONDS (0, the
default outside production, turns this off). The cache key carries no state and the copy is only
seconds old, so nothing here is needed by another server: a page may show a seat count a moment
old, and capacity is still enforced under a row lock when checkout starts.

Pages with a form are cached with the CSRF token taken out; every visitor gets a fresh token (and
cookie) of their own. Visitors with a session (staff, pending messages) and URLs with a query
string always get a freshly rendered page, except for campaign tags alone (`?utm_source=…` and the
like, which no page reads): the links in an announcement email carry them, and those are the
visitors of a rush.
"""

import re

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token

CACHED_VIEWS = frozenset(
    {"workshops:home", "workshops:workshop_detail", "registrations:register", "cohorts:cohort_detail"}
)
MESSAGES_COOKIE = "messages"
TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
PLACEHOLDER = b"\x00csrf-token\x00"
SKIPPED_HEADERS = frozenset({"content-length", "set-cookie"})
# Added to links by mailing and ad tools; the pages never read them.
TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "msclkid", "mc_cid", "mc_eid"})


class PublicPageCacheMiddleware:
    """Place after CsrfViewMiddleware and MessageMiddleware, so their response work runs on cached pages too."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.cache = caches["default"]

    def __call__(self, request):
        response = self.get_response(request)
        key = getattr(request, "_public_page_cache_key", None)
        if key is not None and self._storable(request, response):
            self._store(key, request, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        seconds = getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", 0)
        if not seconds or not self._cacheable(request):
            return None
        key = f"public-page:{request.scheme}:{request.get_host()}:{request.path}"
        cached = self.cache.get(key)
        if cached is None:
            request._public_page_cache_key = key
            return None
        status, headers, body, has_token = cached
        if has_token:
            body = body.replace(PLACEHOLDER, get_token(request).encode())
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        return response

    @staticmethod
    def _cacheable(request) -> bool:
        match = request.resolver_match
        return (
            request.method == "GET"
            and all(name.startswith("utm_") or name in TRACKING_PARAMETERS for name in request.GET)
            and match is not None
            and match.view_name in CACHED_VIEWS
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and MESSAGES_COOKIE not in request.COOKIES
        )

    @staticmethod
    def _storable(request, response) -> bool:
        session = getattr(request, "session", None)
        cache_control = response.get("Cache-Control", "")
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not (session is not None and session.modified)
            and not any(word in cache_control for word in ("private", "no-cache", "no-store"))
        )

    def _store(self, key: str, request, response) -> None:
        body = response.content
        secret = request.META.get("CSRF_COOKIE")
        has_token = False
        if secret:

            def strip(match):
                nonlocal has_token
                if _unmask_cipher_token(match.group().decode()) == secret:
                    has_token = True
                    return PLACEHOLDER
                return match.group()

            body = TOKEN.sub(strip, body)
        headers = [(name, value) for name, value in response.items() if name.lower() not in SKIPPED_HEADERS]
        self.cache.set(key, (response.status_code, headers, body, has_token), settings.PUBLIC_PAGE_CACHE_SECONDS)
