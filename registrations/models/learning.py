"""What an attendee does: pre-work completed, sessions attended, reminders sent, certificates earned."""

from django.db import models
from django.urls import reverse

from workshops.models import PreworkModule, Session

from .orders import CERTIFICATE_CODE_LENGTH, Seat, new_certificate_code


class PreworkCompletion(models.Model):
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="prework_completions")
    module = models.ForeignKey(PreworkModule, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seat", "module"], name="prework_completion_once")]


class Attendance(models.Model):
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="attendances")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "attendance"
        constraints = [models.UniqueConstraint(fields=["seat", "session"], name="attendance_once")]


class ReminderSent(models.Model):
    """One row per reminder queued for an attendee, written in the same transaction as its email.

    The unique constraints are what stop a reminder going out twice, even when two runs of
    `send_reminders` overlap: the second insert fails and that run skips the seat.
    """

    class Kind(models.TextChoices):
        PREWORK = "prework", "Pre-work reminder"
        SESSION = "session", "Session reminder"

    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders")
    email = models.EmailField(help_text="The address it went to.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "reminder sent"
        verbose_name_plural = "reminders sent"
        constraints = [
            models.UniqueConstraint(
                fields=["seat", "kind", "session"], condition=models.Q(session__isnull=False), name="reminder_once_per_session"
            ),
            # NULLs never collide in a unique index, so the session-less kind needs its own.
            models.UniqueConstraint(
                fields=["seat", "kind"], condition=models.Q(session__isnull=True), name="reminder_once_per_seat"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.email}"


class Certificate(models.Model):
    """A certificate of completion for one seat, with a public verification code.

    The name and hours are copied when it is issued, so the verification page always
    matches the PDF the attendee handed to their district.
    """

    seat = models.OneToOneField(Seat, on_delete=models.PROTECT, related_name="certificate")
    code = models.CharField(max_length=CERTIFICATE_CODE_LENGTH, unique=True, default=new_certificate_code, editable=False)
    attendee_name = models.CharField(max_length=200)
    hours = models.PositiveSmallIntegerField(help_text="Professional-development hours: pre-work plus live sessions.")
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"Certificate {self.code} for {self.attendee_name}"

    def get_absolute_url(self) -> str:
        return reverse("registrations:certificate_verify", kwargs={"code": self.code})

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_refunded(self) -> bool:
        """A refunded seat (or order) no longer vouches for anyone: the certificate stops verifying."""
        return self.seat.status == Seat.Status.REFUNDED or self.seat.order.status == self.seat.order.Status.REFUNDED
