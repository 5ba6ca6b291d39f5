"""A URLconf where the token pages live elsewhere (tests/registrations/test_links.py)."""

from django.http import HttpResponse
from django.urls import include, path


def _page(request, token):
    return HttpResponse(token)


app_urls = ([path("elsewhere/<str:token>/order/", _page, name="order_detail")], "registrations")
urlpatterns = [path("", include(app_urls))]
