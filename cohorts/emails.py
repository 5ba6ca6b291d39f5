"""Emails to people on the cohort waitlist. Bodies live in templates/cohorts/email/."""

import uuid

from registrations.emails import queue_email, render_body

from .models import WaitlistEntry


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    """Queue through the site's durable outbox: a mail outage delays the email, never loses it."""
    body = render_body(f"cohorts/email/{template}", context)
    queue_email(key=f"cohorts:{template}:{uuid.uuid4()}", to=to, subject=subject, body=body)


def send_waitlist_confirmation(*, entry: WaitlistEntry, outcome: str, place: int | None) -> None:
    subjects = {
        "joined": f"You're on the waitlist: {entry.cohort.title}",
        "updated": f"Your waitlist details were updated: {entry.cohort.title}",
        "rejoined": f"You're back on the waitlist: {entry.cohort.title}",
        "unchanged": f"Your invitation: {entry.cohort.title}",
    }
    _send(
        to=entry.email,
        subject=subjects[outcome],
        template="waitlist_confirmation",
        context={"entry": entry, "cohort": entry.cohort, "outcome": outcome, "place": place},
    )


def send_invitation(*, entry: WaitlistEntry) -> None:
    _send(
        to=entry.email,
        subject=f"Your invitation: {entry.cohort.title}",
        template="waitlist_invitation",
        context={"entry": entry, "cohort": entry.cohort},
    )
