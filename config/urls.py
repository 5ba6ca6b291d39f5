"""The site's URL map: admin plus each app's public URLs."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from workshops.views import healthz

admin.site.site_header = "Equity School Leadership – staff"
admin.site.site_title = "Staff admin"
admin.site.index_title = "Workshops, registrations and the cohort course"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    path("", include("workshops.urls")),
    path("", include("registrations.urls")),
    path("", include("cohorts.urls")),
    path("", include("support.urls")),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
]
