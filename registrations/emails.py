"""Emails about orders and seats. Bodies live in templates/registrations/email/."""

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Order, OutboundEmail, ReminderSent, Seat, SeatAlert
from .tasks import deliver_email

logger = logging.getLogger(__name__)


def queue_email(*, key: str, to: str, subject: str, body: str) -> OutboundEmail | None:
    """Record an email and schedule its delivery, inside the caller's transaction.

    The same key twice queues nothing the second time. Returns None for a repeat.
    """
    with transaction.atomic():
        email, created = OutboundEmail.objects.get_or_create(
            key=key[:200], defaults={"to_address": to, "subject": subject[:300], "body": body}
        )
        if not created:
            return None
        # The database backend writes the task row in this same transaction: both or neither.
        deliver_email.enqueue(email.pk)
    return email


def _send(*, to: str, subject: str, template: str, context: dict, key: str | None = None) -> None:
    context = {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME, **context}
    body = render_to_string(f"registrations/email/{template}.txt", context)
    queue_email(key=key or f"{template}:{uuid.uuid4()}", to=to, subject=subject, body=body)


def send_order_confirmation(*, order_id: int, resend: bool = False) -> None:
    order = Order.objects.select_related("workshop").get(pk=order_id)
    seats = list(order.seats.filter(status=Seat.Status.ACTIVE).order_by("position"))
    sessions = order.workshop.session_list
    _send(
        to=order.buyer_email,
        subject=f"You're registered: {order.workshop.title} ({order.reference})",
        template="order_confirmation",
        context={"order": order, "seats": seats, "sessions": sessions, "workshop": order.workshop},
        key=None if resend else f"order_confirmation:{order.pk}",
    )
    for seat in seats:
        if seat.attendee_email and seat.attendee_email.lower() != order.buyer_email.lower():
            send_seat_welcome(seat_id=seat.pk, resend=resend)


def send_seat_welcome(*, seat_id: int, resend: bool = False) -> None:
    seat = Seat.objects.select_related("order__workshop").get(pk=seat_id)
    if not seat.attendee_email:
        return
    _send(
        to=seat.attendee_email,
        subject=f"Your seat at {seat.order.workshop.title}",
        template="seat_welcome",
        context={"seat": seat, "order": seat.order, "workshop": seat.order.workshop, "sessions": seat.order.workshop.session_list},
        key=None if resend else f"seat_welcome:{seat.pk}:{seat.token}:{seat.attendee_email.lower()}",
    )
    Seat.objects.filter(pk=seat_id).update(welcome_sent_at=timezone.now())


def send_oversold_refund_notice(*, order_id: int) -> None:
    order = Order.objects.select_related("workshop").get(pk=order_id)
    _send(
        to=order.buyer_email,
        subject=f"Your payment for {order.workshop.title} has been refunded",
        template="oversold_refund",
        context={"order": order, "workshop": order.workshop},
        key=f"oversold_refund:{order.pk}",
    )


def send_seat_alerts(*, workshop_id: int) -> None:
    """Tell everyone waiting for a sold-out workshop that seats came free, once each."""
    with transaction.atomic():
        alerts = list(
            SeatAlert.objects.select_for_update(skip_locked=True)
            .select_related("workshop")
            .filter(workshop_id=workshop_id, notified_at__isnull=True)
        )
        if not alerts:
            return
        SeatAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(notified_at=timezone.now())
        for alert in alerts:
            _send(
                to=alert.email,
                subject=f"Seats have opened up: {alert.workshop.title}",
                template="seat_alert",
                context={"workshop": alert.workshop},
                key=f"seat_alert:{alert.pk}",
            )


def send_prework_reminder(*, reminder_id: int) -> None:
    from .selectors import prework_minutes_done, prework_minutes_total

    reminder = ReminderSent.objects.get(pk=reminder_id)
    seat = (
        Seat.objects.select_related("order__workshop")
        .annotate(prework_minutes_done=prework_minutes_done(), prework_minutes_total=prework_minutes_total())
        .get(pk=reminder.seat_id)
    )
    workshop = seat.order.workshop
    _send(
        to=reminder.email,
        subject=f"Pre-work for {workshop.title}: a reminder",
        template="prework_reminder",
        context={"seat": seat, "workshop": workshop, "first_session": workshop.first_session},
        key=f"reminder:{reminder.pk}",
    )


def send_session_reminder(*, reminder_id: int) -> None:
    reminder = ReminderSent.objects.select_related("seat__order__workshop", "session").get(pk=reminder_id)
    seat, session = reminder.seat, reminder.session
    workshop = seat.order.workshop
    _send(
        to=reminder.email,
        subject=f"Reminder: {workshop.title}, {session.title.lower()} on {timezone.localtime(session.starts_at, workshop.tz):%A, %B %-d}",
        template="session_reminder",
        context={"seat": seat, "workshop": workshop, "session": session},
        key=f"reminder:{reminder.pk}",
    )
