import secrets

from django.db import models
from django.urls import reverse

from workshops.models import PreworkModule, Session, Workshop

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_reference() -> str:
    return "ESL-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


CERTIFICATE_CODE_LENGTH = 12


def new_certificate_code() -> str:
    # 31 unambiguous characters (no 0/O, 1/I/L) ^ 12: about 60 bits, not guessable, easy to read aloud.
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(CERTIFICATE_CODE_LENGTH))


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PROCESSING = "processing", "Payment processing"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Payment failed"
        NEEDS_REFUND = "needs_refund", "Paid after the hold lapsed: refund due"
        REFUNDED = "refunded", "Refunded"

    class Role(models.TextChoices):
        TEACHER = "teacher", "Classroom teacher"
        SCHOOL_LEADER = "school_leader", "School leader"
        DISTRICT_LEADER = "district_leader", "District leader"
        SUPPORT = "support", "Counselor or support staff"
        OTHER = "other", "Other"

    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="orders")
    buyer_name = models.CharField(max_length=200)
    buyer_email = models.EmailField()
    organisation = models.CharField("school or district", max_length=200)
    role = models.CharField(max_length=32, choices=Role.choices)
    buyer_attends = models.BooleanField(default=True)
    seat_count = models.PositiveSmallIntegerField()
    refunded_seat_count = models.PositiveSmallIntegerField(default=0)
    unit_price_cents = models.PositiveIntegerField()
    total_cents = models.PositiveIntegerField()
    refunded_cents = models.PositiveIntegerField(default=0)
    tier_min_seats = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    hold_expires_at = models.DateTimeField()
    checkout_attempts = models.PositiveSmallIntegerField(default=0)
    is_test_payment = models.BooleanField(default=False)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_checkout_url = models.TextField(blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it expired, was cancelled or failed.")
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    staff_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workshop", "status", "hold_expires_at"], name="order_capacity_idx"),
            models.Index(fields=["buyer_email"], name="order_buyer_email_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seat_count__gte=1), name="order_has_seats"),
            models.CheckConstraint(
                condition=models.Q(refunded_seat_count__lte=models.F("seat_count")), name="order_refunds_within_seats"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} – {self.buyer_name} ({self.seat_count} seat{'s' if self.seat_count != 1 else ''})"

    def get_absolute_url(self) -> str:
        return reverse("registrations:order_detail", kwargs={"token": self.token})

    @property
    def active_seat_count(self) -> int:
        return self.seat_count - self.refunded_seat_count

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID

    @property
    def is_team(self) -> bool:
        return self.seat_count > 1

    @property
    def is_open_for_payment(self) -> bool:
        return self.status == self.Status.PENDING


class Seat(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REFUNDED = "refunded", "Refunded"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="seats")
    position = models.PositiveSmallIntegerField()
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    attendee_name = models.CharField(max_length=200, blank=True)
    attendee_email = models.EmailField(blank=True)
    needs_captions = models.BooleanField(default=False)
    needs_interpreter = models.BooleanField(default=False)
    access_note = models.CharField("other access needs", max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    welcome_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "position"]
        constraints = [models.UniqueConstraint(fields=["order", "position"], name="seat_unique_position")]
        indexes = [models.Index(fields=["attendee_email"], name="seat_attendee_email_idx")]

    def __str__(self) -> str:
        return f"Seat {self.position} of {self.order.reference}: {self.attendee_name or 'not named yet'}"

    def get_absolute_url(self) -> str:
        return reverse("registrations:seat_detail", kwargs={"token": self.token})

    @property
    def is_named(self) -> bool:
        return bool(self.attendee_name and self.attendee_email)

    @property
    def has_access_needs(self) -> bool:
        return self.needs_captions or self.needs_interpreter or bool(self.access_note)


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


class StripeEvent(models.Model):
    """One row per Stripe event id: a redelivered event is recognised and does nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="stripe_events")
    outcome = models.CharField(max_length=200, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    seat_count = models.PositiveSmallIntegerField()
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    stripe_refund_id = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Refund of {self.seat_count} seat(s) on {self.order.reference}"


class SeatAlert(models.Model):
    """Someone asking to be told when seats free up on a sold-out workshop."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="seat_alerts")
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workshop", "email"], name="seat_alert_once_per_email")]

    def __str__(self) -> str:
        return f"{self.email} for {self.workshop}"


class OutboundEmail(models.Model):
    """Every email the site sends, written in the same transaction as the change that causes it.

    A task delivers it; SMTP failures are retried later. `key` makes queueing the same
    email twice a no-op, and `sent_at` (checked under a row lock) stops a second send.
    """

    key = models.CharField(max_length=200, unique=True)
    to_address = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="outbound_email_unsent_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address}"


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


class RosterSeat(Seat):
    """The staff roster in admin: a view of seats, not a table of its own."""

    class Meta:
        proxy = True
        verbose_name = "roster entry"
        verbose_name_plural = "roster"


class WorkshopDashboard(Workshop):
    """The staff dashboard in admin (seats sold, held, left, revenue): a view of workshops."""

    class Meta:
        proxy = True
        verbose_name = "workshop dashboard"
        verbose_name_plural = "workshop dashboard"
