"""The email outbox's delivery: background tasks that send queued OutboundEmail rows and retry on SMTP failure."""

import logging
import smtplib
from datetime import timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import OutboundEmail

logger = logging.getLogger(__name__)

# Retry delays after SMTP failures: 1, 2, 4 … minutes, capped at an hour; never given up on.
MAX_RETRY_DELAY = timedelta(hours=1)


def sender() -> str:
    """The organisation's name with the sending address: 'Equity School Leadership <workshops@…>'."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return formataddr((settings.SITE_NAME, address))


def retry_delay(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


@task(queue_name="email")
def deliver_emails(keys: list[str]) -> str:
    """Deliver a batch queued together; each email is tried, and retried, on its own."""
    ids = list(OutboundEmail.objects.filter(key__in=keys, sent_at__isnull=True).values_list("pk", flat=True))
    outcomes = [deliver_email.call(email_id) for email_id in ids]
    return f"{outcomes.count('sent')} sent, {outcomes.count('retry scheduled')} to retry"


@task(queue_name="email")
def deliver_email(email_id: int) -> str:
    with transaction.atomic():
        # The row lock makes a second copy of this task wait, then see sent_at and stop.
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return "missing"
        if email.sent_at:
            return "already sent"
        message = EmailMultiAlternatives(
            subject=email.subject, body=email.body, to=[email.to_address], from_email=sender(),
            reply_to=[settings.CONTACT_EMAIL] if settings.CONTACT_EMAIL else None,
        )
        if email.html_body:
            message.attach_alternative(email.html_body, "text/html")
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            email.attempts += 1
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            email.save(update_fields=["attempts", "last_error"])
            deliver_email.using(run_after=timezone.now() + retry_delay(email.attempts)).enqueue(email_id)
            logger.warning("Email %s not sent (attempt %s), retrying later: %s", email.key, email.attempts, exc)
            return "retry scheduled"
        email.sent_at = timezone.now()
        email.attempts += 1
        email.save(update_fields=["sent_at", "attempts"])
    return "sent"
