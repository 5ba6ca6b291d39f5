"""App configuration for registrations: orders, seats, payments and what follows them."""

from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = "Registrations"
