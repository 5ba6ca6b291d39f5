"""App configuration for staff: the staff admin site, the audit trail, and a complete Administrator role."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff and privacy"

    def ready(self):
        from . import audit, roles

        audit.register_models()
        # Listed last in INSTALLED_APPS, so every app's permissions exist when this runs.
        post_migrate.connect(roles.give_administrator_every_permission, sender=self, dispatch_uid="staff.roles")


class StaffAdminConfig(AdminConfig):
    """Installed instead of django.contrib.admin, so `admin.site` (and every @admin.register) is ours."""

    default_site = "staff.sites.StaffAdminSite"
