"""Public URLs of the policy pages and the lost-links form."""

from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("refunds/", views.policy_page, {"kind": "refunds"}, name="refunds"),
    path("privacy/", views.policy_page, {"kind": "privacy"}, name="privacy"),
    path("accessibility/", views.policy_page, {"kind": "accessibility"}, name="accessibility"),
    path("links/", views.links_request, name="links"),
    path("links/sent/", views.links_sent, name="links_sent"),
    path("favicon.ico", views.favicon, name="favicon"),
]
