"""Deployment checks (`manage.py check --deploy`): links and contact details must be the organisation's own."""

from email.utils import parseaddr

from django.conf import settings
from django.core.checks import Tags, Warning, register

SHIPPED_DEFAULTS = {"workshops@example.org"}


def _placeholder(address: str) -> bool:
    address = parseaddr(address)[1].lower()
    return not address or address in SHIPPED_DEFAULTS or address.endswith("@localhost")


@register(Tags.security, deploy=True)
def contact_details_are_set(app_configs, **kwargs):
    problems = []
    if not settings.SITE_URL:
        problems.append(Warning(
            "SITE_URL is not set: emails sent by the worker would link to LOCAL_SITE_URL.",
            hint="Set SITE_URL to the site's public address, e.g. https://register.example.org.", id="support.W001",
        ))
    if _placeholder(settings.CONTACT_EMAIL):
        problems.append(Warning(
            "CONTACT_EMAIL is the shipped placeholder: every page footer and email would show it.",
            hint="Set CONTACT_EMAIL to the address buyers and attendees should write to.", id="support.W002",
        ))
    if _placeholder(settings.DEFAULT_FROM_EMAIL):
        problems.append(Warning(
            "DEFAULT_FROM_EMAIL is the shipped placeholder: emails would come from it.",
            hint="Set DEFAULT_FROM_EMAIL to an address your mail server may send from.", id="support.W003",
        ))
    return problems
