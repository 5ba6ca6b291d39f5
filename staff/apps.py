"""App configuration for staff: connects the audit trail and keeps the Administrator role complete."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff and privacy"

    def ready(self):
        from . import audit, roles

        audit.register_models()
        # Listed last in INSTALLED_APPS, so every app's permissions exist when this runs.
        post_migrate.connect(roles.give_administrator_every_permission, sender=self, dispatch_uid="staff.roles")
