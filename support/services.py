"""Sending someone every link their email address can reach, without telling a stranger whether it can reach any."""

import uuid

from django.conf import settings
from django.db import transaction
from django_tasks import task

from registrations.emails import queue_email, render_body

from .selectors import links_for_email


def request_links(*, email: str) -> None:
    """Queue the "your links" email for `email`: the same work and the same answer whether or not it is known.

    The lookup happens in a background task, so the request that asked takes the same path for any email.
    The view counts the request against the rate limits first (guard/ratelimit.py).
    """
    email = email.strip()
    with transaction.atomic():
        send_links.enqueue(email)


@task(queue_name="email")
def send_links(email: str) -> str:
    """Email every order, seat and waitlist link for this address, or say there are none."""
    links = links_for_email(email)
    body = render_body("support/email/my_links", {"links": links, "email": email})
    with transaction.atomic():
        queue_email(key=f"my_links:{uuid.uuid4()}", to=email, subject=f"Your links: {settings.SITE_NAME}", body=body)
    return "nothing found" if links.is_empty else "links sent"
