"""The per-workshop dashboard: seats sold, held and left, and revenue."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from registrations.selectors.staff_reports import workshop_dashboard

from ..models import (
    WorkshopDashboard,
)


@admin.register(WorkshopDashboard)
class WorkshopDashboardAdmin(admin.ModelAdmin):
    """Seats sold, held and left, and revenue net of refunds, per workshop."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Seats and revenue: only for staff allowed to view orders.
        if not (self.has_view_permission(request) and request.user.has_perm("registrations.view_order")):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "registrations/admin/workshop_dashboard.html",
            {
                **self.admin_site.each_context(request),
                "title": "Workshop dashboard",
                "opts": self.model._meta,
                "rows": workshop_dashboard(),
                **(extra_context or {}),
            },
        )
