"""Pre-work progress, attendance, reminders and certificates of completion."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from registrations.selectors.progress import (
    completion_earned_at,
    completion_for_seat,
    seats_due_prework_reminder,
    seats_due_session_reminder,
    sessions_due_reminder,
)

from .. import emails
from ..errors import AttendanceError, CertificateError, PreworkError
from ..models import (
    Attendance,
    Certificate,
    Order,
    PreworkCompletion,
    ReminderSent,
    Seat,
)


def set_prework_done(*, seat: Seat, module, done: bool) -> bool:
    """Mark one pre-work module done or not done for a seat; repeating either is harmless.

    Returns whether anything changed. Raises PreworkError for a seat whose order is not paid.
    """
    if seat.order.status != Order.Status.PAID or seat.status != Seat.Status.ACTIVE:
        raise PreworkError("Pre-work opens once the order is paid.")
    if module.workshop_id != seat.order.workshop_id:
        raise PreworkError("This module is not part of your workshop.")
    if done:
        _, created = PreworkCompletion.objects.get_or_create(seat=seat, module=module)
        return created
    deleted, _ = PreworkCompletion.objects.filter(seat=seat, module=module).delete()
    return bool(deleted)


def prework_reminder_days() -> int:
    return getattr(settings, "PREWORK_REMINDER_DAYS", 3)


def session_reminder_hours() -> int:
    return getattr(settings, "SESSION_REMINDER_HOURS", 24)


@dataclass(frozen=True)
class RemindersQueued:
    prework: int
    session: int


def _remind_once(*, seat: Seat, kind: str, session=None) -> bool:
    """Record the reminder and queue its email in one transaction; False if it was already sent."""
    try:
        with transaction.atomic():
            # A concurrent run inserting the same row waits here, then fails: one email per reminder.
            reminder = ReminderSent.objects.create(seat=seat, kind=kind, session=session, email=seat.attendee_email)
            if kind == ReminderSent.Kind.PREWORK:
                emails.send_prework_reminder(reminder_id=reminder.pk)
            else:
                emails.send_session_reminder(reminder_id=reminder.pk)
    except IntegrityError:
        return False
    return True


def send_due_reminders(*, now: datetime | None = None) -> RemindersQueued:
    """Queue every reminder that is due and not yet sent. Safe to run every few minutes.

    Pre-work: attendees of paid orders who have not finished it, from PREWORK_REMINDER_DAYS
    (default 3) days before the first session. Sessions: every attendee, from
    SESSION_REMINDER_HOURS (default 24) hours before each session. Raises nothing.
    """
    now = now or timezone.now()
    prework = sum(
        _remind_once(seat=seat, kind=ReminderSent.Kind.PREWORK)
        for seat in seats_due_prework_reminder(now=now, days_before=prework_reminder_days())
    )
    session_count = 0
    for session in sessions_due_reminder(now=now, hours_before=session_reminder_hours()):
        session_count += sum(
            _remind_once(seat=seat, kind=ReminderSent.Kind.SESSION, session=session)
            for seat in seats_due_session_reminder(session=session)
        )
    return RemindersQueued(prework=prework, session=session_count)


def issue_certificate(*, seat: Seat, reinstate: bool = False, now: datetime | None = None) -> Certificate:
    """The seat's certificate, issued on first request once pre-work and every live session are done,
    dated when they were done (selectors.progress.completion_earned_at).

    Asking again returns the same certificate and code. A revoked certificate stays revoked
    unless staff reinstate it (`reinstate=True`), which keeps its code and copies the current name.
    Raises CertificateError.
    """
    now = now or timezone.now()
    with transaction.atomic():
        seat = Seat.objects.select_for_update(of=("self",)).select_related("order__workshop").get(pk=seat.pk)
        if not completion_for_seat(seat).is_complete:
            raise CertificateError(
                "The certificate becomes available once all the pre-work is done and attendance at every live "
                "session is recorded."
            )
        workshop = seat.order.workshop
        certificate = Certificate.objects.filter(seat=seat).first()
        if certificate is None:
            return Certificate.objects.create(
                seat=seat, attendee_name=seat.attendee_name, hours=workshop.total_hours,
                issued_at=completion_earned_at(seat, now=now),
            )
        if certificate.is_revoked:
            if not reinstate:
                raise CertificateError("This certificate was withdrawn. Please contact us if you think this is a mistake.")
            certificate.revoked_at = None
            certificate.attendee_name = seat.attendee_name
            certificate.hours = workshop.total_hours
            certificate.issued_at = completion_earned_at(seat, now=now)
            certificate.save()
        return certificate


def revoke_certificate(*, certificate: Certificate, now: datetime | None = None) -> bool:
    """Withdraw a certificate: its verification page then says so. Returns whether it changed."""
    return bool(
        Certificate.objects.filter(pk=certificate.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    )


def set_attendance(*, seats: list[Seat], session_number: int, attended: bool, now: datetime | None = None) -> int:
    """Record (or clear) attendance at the n-th session of each seat's own workshop.

    Only active seats of paid orders are marked, and only at a session that has started.
    Returns how many seats changed; nothing changes if any seat is refused.
    Raises AttendanceError when a seat's workshop has no session with that number, or it has not started.
    """
    now = now or timezone.now()
    changed = 0
    with transaction.atomic():
        for seat in seats:
            if seat.status != Seat.Status.ACTIVE or seat.order.status != Order.Status.PAID:
                continue
            sessions = list(seat.order.workshop.sessions.order_by("starts_at", "pk"))
            if not 1 <= session_number <= len(sessions):
                raise AttendanceError(f"{seat.order.workshop} has no session {session_number}.")
            session = sessions[session_number - 1]
            if attended and session.starts_at > now:
                starts = timezone.localtime(session.starts_at, seat.order.workshop.tz)
                raise AttendanceError(
                    f"Session {session_number} of {seat.order.workshop} starts {starts:%A, %B} {starts.day}, "
                    f"{starts:%-I:%M %p %Z}: attendance can be marked once it has started. Nothing was marked."
                )
            if attended:
                _, created = Attendance.objects.get_or_create(seat=seat, session=session)
                changed += created
            else:
                deleted, _ = Attendance.objects.filter(seat=seat, session=session).delete()
                changed += bool(deleted)
    return changed
