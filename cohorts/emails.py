"""Emails to people on the cohort waitlist. Bodies live in templates/cohorts/email/."""

import uuid

from django.conf import settings
from django.urls import reverse

from registrations.emails import queue_email, render_body

from .models import WaitlistEntry


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    """Queue through the site's durable outbox: a mail outage delays the email, never loses it."""
    body = render_body(f"cohorts/email/{template}", context)
    queue_email(key=f"cohorts:{template}:{uuid.uuid4()}", to=to, subject=subject, body=body)


def send_waitlist_link(*, entry: WaitlistEntry, outcome: str, place: int | None) -> None:
    """The link to an entry's private page, to the entry's own address.

    `outcome`: "joined" (new entry), "existing" (someone typed an address already on the list) or
    "moved" (the entry now uses this address). The subject is the same for all three.
    """
    _send(
        to=entry.email,
        subject=f"Your waitlist link: {entry.cohort.title}",
        template="waitlist_link",
        context={"entry": entry, "cohort": entry.cohort, "outcome": outcome, "place": place},
    )


def send_email_change(*, entry: WaitlistEntry, new_email: str, signed: str) -> None:
    """A confirmation link to an address someone asked to move their waitlist entry to."""
    _send(
        to=new_email,
        subject=f"Confirm your email address for the waitlist: {entry.cohort.title}",
        template="waitlist_email_change",
        context={
            "cohort": entry.cohort,
            "confirm_path": reverse("cohorts:waitlist_confirm_email", kwargs={"token": signed}),
            "days": settings.WAITLIST_EMAIL_CHANGE_DAYS,
        },
    )


def send_invitation(*, entry: WaitlistEntry) -> None:
    _send(
        to=entry.email,
        subject=f"Your invitation: {entry.cohort.title}",
        template="waitlist_invitation",
        context={"entry": entry, "cohort": entry.cohort},
    )
