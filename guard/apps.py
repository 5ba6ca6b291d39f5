"""App configuration for guard: rate limits and security headers, used by every public app."""

from django.apps import AppConfig


class GuardConfig(AppConfig):
    name = "guard"
    verbose_name = "Rate limits and headers"
