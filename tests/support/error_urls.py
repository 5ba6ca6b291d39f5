"""The site's URLs and error handlers, plus views that fail on purpose, for the error-page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from config.urls import handler400, handler403, handler500, urlpatterns as site_urlpatterns

__all__ = ["handler400", "handler403", "handler500", "urlpatterns"]


def broken(request):
    raise RuntimeError("something deep inside broke")


def forbidden(request):
    raise PermissionDenied("not yours")


def suspicious(request):
    raise SuspiciousOperation("a malformed request")


urlpatterns = [
    path("test-errors/broken/", broken),
    path("test-errors/forbidden/", forbidden),
    path("test-errors/suspicious/", suspicious),
    *site_urlpatterns,
]
