"""App configuration for workshops: the catalog."""

from django.apps import AppConfig


class WorkshopsConfig(AppConfig):
    name = "workshops"
    verbose_name = "Workshops"

    def ready(self) -> None:
        from . import signals

        signals.connect()
