"""Headers on every response: Permissions-Policy, and no caching of any page reached by a private link.

The Content-Security-Policy itself comes from django-csp (settings.CONTENT_SECURITY_POLICY).
"""

from django.conf import settings
from django.utils.cache import add_never_cache_headers

# URL arguments that are private links: order, seat and waitlist tokens, certificate codes.
PRIVATE_URL_KWARGS = frozenset({"token", "code"})
# Query parameters that fill a page with someone's details (`?from=<order token>`, `?quote=Q-…`).
PRIVATE_QUERY_PARAMS = frozenset({"from", "quote"})


def is_private_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is not None and PRIVATE_URL_KWARGS & set(match.kwargs):
        return True
    return bool(PRIVATE_QUERY_PARAMS & set(request.GET))


class SecurityHeadersMiddleware:
    """Place near the top of MIDDLEWARE, so the headers also go on responses other middleware returns."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        if is_private_page(request):
            # Shared computers, browser back buttons and proxies must not keep a copy of a private page:
            # Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private.
            add_never_cache_headers(response)
        return response
