"""The support app's configuration."""

from django.apps import AppConfig


class SupportConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "support"
    verbose_name = "Policies and help"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
