"""The year-long Cohort, its touch points, and the WaitlistEntry rows with their status history."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from registrations.models import Order
from registrations.selectors.progress import emails_meeting_prerequisite, paid_for_seats
from workshops.models import (
    DEFAULT_TIME_ZONE,
    PublicPageText,
    Workshop,
    validate_time_zone,
)

MAX_TEAM_SIZE = 500


def new_token() -> str:
    return secrets.token_urlsafe(32)


def validate_first_of_month(value) -> None:
    if value and value.day != 1:
        raise ValidationError("Use the 1st of the month; only the month is shown.")


class CohortQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Cohort(PublicPageText, models.Model):
    class Status(models.TextChoices):
        COMING_SOON = "coming_soon", "Coming soon"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    summary = models.TextField(help_text="One or two sentences shown on the home page and at the top of the page.")
    description = models.TextField(blank=True, help_text="What the course is and how it runs. Blank lines separate paragraphs.")
    start_month = models.DateField(validators=[validate_first_of_month], help_text="The 1st of the month the course starts.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.COMING_SOON)
    platform = models.CharField(max_length=50, default="Zoom")
    time_zone = models.CharField(
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        validators=[validate_time_zone],
        help_text="Touch point times are shown in this zone.",
    )
    outcomes = models.TextField(blank=True, help_text="Learning outcomes, one per line.")
    audiences = models.TextField(blank=True, help_text="Who it is for, one per line.")
    prerequisite_workshop = models.ForeignKey(
        Workshop,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cohorts",
        help_text="People who paid for or attended this workshop meet the prerequisite.",
    )
    price_cents = models.PositiveIntegerField(
        null=True, blank=True, help_text="Price per participant in cents, once registration opens. Blank: not set yet."
    )
    is_published = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seats in the course once registration opens. Blank: 100."
    )
    # The course's seats are sold through the registrations checkout as an unlisted offering,
    # created and kept in step by services.sync_offering when staff open the course with a price.
    offering = models.OneToOneField(
        "workshops.Workshop", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CohortQuerySet.as_manager()

    class Meta:
        ordering = ["-start_month"]
        constraints = [
            models.CheckConstraint(condition=models.Q(start_month__day=1), name="cohort_starts_on_first_of_month"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("cohorts:cohort_detail", kwargs={"slug": self.slug})

    @property
    def accepts_waitlist(self) -> bool:
        return self.status != self.Status.CLOSED

    @property
    def touch_point_list(self) -> list["CohortTouchPoint"]:
        """Reads the prefetched touch points, so templates cost no queries."""
        return sorted(self.touch_points.all(), key=lambda t: (t.month, t.position, t.pk))


class CohortTouchPoint(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="touch_points")
    title = models.CharField(max_length=200, default="Monthly touch point")
    month = models.DateField(validators=[validate_first_of_month], help_text="The 1st of the month it falls in.")
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Blank: date and time to be set.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["cohort", "month", "position"]
        constraints = [
            models.CheckConstraint(condition=models.Q(month__day=1), name="touch_point_month_on_first"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.month:%B %Y})"


class WaitlistEntry(models.Model):
    # The same roles as a registration, so an invited entry's order carries the role it gave.
    Role = Order.Role

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Just me"
        TEAM = "team", "A team"

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        INVITED = "invited", "Invited"
        ENROLLED = "enrolled", "Enrolled"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # Statuses that hold a place in line.
    IN_LINE = (Status.WAITING, Status.INVITED)

    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="waitlist_entries")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField(help_text="Kept as typed; compared without regard to case.")
    role = models.CharField(max_length=32, choices=Role.choices)
    organisation = models.CharField("school or organisation", max_length=200, blank=True)
    kind = models.CharField("individual or team", max_length=20, choices=Kind.choices, default=Kind.INDIVIDUAL)
    team_size = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_TEAM_SIZE)], help_text="People, including them."
    )
    note = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.WAITING)
    joined_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="When they took their current place in line (reset on rejoining)."
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    order_token = models.CharField(
        max_length=64, blank=True, editable=False, help_text="The registration order paying for this entry's course seats."
    )
    seat_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When they confirmed from their invitation that they want a seat."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "waitlist entries"
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                "cohort",
                Lower("email"),
                name="waitlist_entry_unique_email_per_cohort",
                violation_error_message="This email is already on the waitlist for this course.",
            ),
            models.CheckConstraint(
                condition=models.Q(team_size__gte=1, team_size__lte=MAX_TEAM_SIZE), name="waitlist_team_size_range"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="team") | models.Q(team_size=1),
                name="waitlist_individual_is_one_person",
                violation_error_message="An individual entry is for one person; choose “A team” for more.",
            ),
        ]
        indexes = [models.Index(fields=["cohort", "status", "joined_at"], name="waitlist_line_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def get_absolute_url(self) -> str:
        return reverse("cohorts:waitlist_status", kwargs={"token": self.token})

    def get_invitation_url(self) -> str:
        return reverse("cohorts:waitlist_invitation", kwargs={"token": self.token})

    @property
    def is_team(self) -> bool:
        return self.kind == self.Kind.TEAM

    @property
    def is_in_line(self) -> bool:
        return self.status in self.IN_LINE

    # Computed from registrations, never stored, so a workshop paid for after joining counts at once.
    _prerequisite_met: bool | None = None

    @property
    def prerequisite_met(self) -> bool:
        if self._prerequisite_met is None:
            # Lists set this for many entries at once (selectors.attach_prerequisite_met); one entry asks here.
            workshop_id = self.cohort.prerequisite_workshop_id
            self._prerequisite_met = workshop_id is None or self.email.strip().lower() in emails_meeting_prerequisite(
                workshop_id=workshop_id, emails=[self.email]
            )
        return self._prerequisite_met

    @prerequisite_met.setter
    def prerequisite_met(self, value: bool) -> None:
        self._prerequisite_met = value

    @property
    def bought_seats_without_one(self) -> bool:
        """Paid for seats of the prerequisite workshop under this email without taking one (for the person's own
        pages, which say why the prerequisite is not met)."""
        workshop_id = self.cohort.prerequisite_workshop_id
        return workshop_id is not None and not self.prerequisite_met and paid_for_seats(
            workshop_id=workshop_id, email=self.email
        )

    @property
    def people_label(self) -> str:
        return f"Team of {self.team_size}" if self.is_team else "Individual"


class WaitlistStatusChange(models.Model):
    """Every status an entry moves through, with when and who (blank: the person themselves)."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=WaitlistEntry.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=WaitlistEntry.Status.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status}"
