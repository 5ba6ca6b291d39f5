"""The site's URL map: admin plus each app's public URLs."""

from django.contrib import admin
from django.urls import include, path

from workshops.views import healthz

# admin.site is staff.sites.StaffAdminSite (installed by staff.apps.StaffAdminConfig).
urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    path("", include("workshops.urls")),
    path("", include("registrations.urls")),
    path("", include("cohorts.urls")),
    path("", include("support.urls")),
]

# Error pages that name how to reach us; the 500 and 400 pages need no request, database or context processor.
handler400 = "support.views.bad_request"
handler403 = "support.views.permission_denied"
handler500 = "support.views.server_error"
