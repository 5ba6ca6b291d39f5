"""The catalog: Workshop, its live Sessions, PreworkModules and PriceTiers."""

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from .schedule import schedule_summary
from .versions import CatalogRow, new_catalog_version

# Where the organisation is; new workshops and cohorts, and admin pages without one, use it.
DEFAULT_TIME_ZONE = "America/Los_Angeles"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("“%(value)s” is not a known time zone.", params={"value": value})


def text_lines(text: str) -> list[str]:
    """A one-item-per-line text field (outcomes, audiences) as its non-blank lines."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def text_paragraphs(text: str) -> list[str]:
    """A description as its paragraphs (separated by blank lines)."""
    return [p.strip() for p in text.split("\n\n") if p.strip()]


class PublicPageText:
    """What a workshop's and a cohort's public pages read the same way: the description in
    paragraphs, outcomes and audiences one per line, and the time zone their dates are shown in.
    For models with `description`, `outcomes`, `audiences` and `time_zone` fields."""

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def paragraphs(self) -> list[str]:
        return text_paragraphs(self.description)

    @property
    def outcome_list(self) -> list[str]:
        return text_lines(self.outcomes)

    @property
    def audience_list(self) -> list[str]:
        return text_lines(self.audiences)


class WorkshopQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def listed(self):
        return self.filter(is_published=True, is_listed=True)


class Workshop(PublicPageText, models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    summary = models.TextField(help_text="One or two sentences shown on the home page and at the top of the page.")
    description = models.TextField(blank=True, help_text="Longer introduction. Blank lines separate paragraphs.")
    outcomes = models.TextField(blank=True, help_text="Learning outcomes, one per line.")
    audiences = models.TextField(blank=True, help_text="Who it is for, one per line.")
    prework_hours = models.PositiveSmallIntegerField(default=2, help_text="Asynchronous pre-work, in hours.")
    live_hours = models.PositiveSmallIntegerField(default=4, help_text="Live sessions in total, in hours.")
    platform = models.CharField(max_length=50, default="Zoom")
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)], help_text="Seats in total.")
    invoice_hold_percent = models.PositiveSmallIntegerField(
        "share of seats unpaid invoices may hold",
        default=30,
        validators=[MaxValueValidator(100)],
        help_text="Percent of capacity that invoices not yet paid may hold at once, so invoice requests can never take "
        "the workshop off sale. 0 turns paying by invoice off.",
    )
    registration_opens_at = models.DateTimeField(null=True, blank=True, help_text="Blank: open now.")
    registration_closes_at = models.DateTimeField(null=True, blank=True, help_text="Blank: until the first session starts.")
    time_zone = models.CharField(max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone])
    seat_changes_close_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Team leads can name or change seats until this many hours before the first session."
    )
    session_link_lead_minutes = models.PositiveSmallIntegerField(
        default=60, help_text="Paid attendees see a session's meeting link from this many minutes before it starts."
    )
    breakout_room_size = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(2)],
        help_text="How many people one affinity-group breakout room holds at most. Each group is split into "
        "as few rooms as that allows, of even sizes.",
    )
    affinity_choice_close_hours = models.PositiveSmallIntegerField(
        default=12,
        help_text="Attendees can choose or change their affinity group until this many hours before each live "
        "session (then again after it starts, for the next one). Staff can move people between rooms until the "
        "session starts. Export the Zoom file once choices close.",
    )
    is_published = models.BooleanField(default=False)
    is_listed = models.BooleanField(
        default=True,
        help_text="Shown in the catalog and open to public registration. Off for offerings reached only "
        "by invitation, such as the cohort course's seats (managed from the cohort).",
    )
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="facilitated_workshops",
        help_text="Staff who lead its sessions. With the Facilitator role they see this workshop's roster "
        "(read-only, with access needs) and no other.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Anew whenever its sessions, price tiers or affinity groups change: what processes' copies of them are keyed on.
    catalog_version = models.CharField(max_length=16, default=new_catalog_version, editable=False)

    objects = WorkshopQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="workshop_capacity_at_least_one"),
            models.CheckConstraint(
                condition=models.Q(breakout_room_size__gte=2), name="workshop_breakout_room_holds_two"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("workshops:workshop_detail", kwargs={"slug": self.slug})

    def save(self, *args, **kwargs):
        # Anew on every save: an instance read before a change must not write back the version it was read with.
        self.catalog_version = new_catalog_version()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "catalog_version"}
        super().save(*args, **kwargs)

    def clean(self):
        if (
            self.registration_opens_at
            and self.registration_closes_at
            and self.registration_closes_at <= self.registration_opens_at
        ):
            raise ValidationError({"registration_closes_at": "Registration must close after it opens."})

    @property
    def total_hours(self) -> int:
        return self.prework_hours + self.live_hours

    # The helpers below read the prefetched sessions/tiers, so templates cost no queries.
    @property
    def session_list(self) -> list["Session"]:
        return sorted(self.sessions.all(), key=lambda s: s.starts_at)

    @property
    def first_session(self) -> "Session | None":
        sessions = self.session_list
        return sessions[0] if sessions else None

    @property
    def last_session(self) -> "Session | None":
        sessions = self.session_list
        return sessions[-1] if sessions else None

    @property
    def schedule(self) -> str:
        """'Live on Zoom: Wednesday, May 5 and Wednesday, May 19, 2027, 4:00–6:00 PM Pacific Time (PDT)'."""
        return schedule_summary(self.session_list, self.time_zone, self.platform)

    @property
    def tier_list(self) -> list["PriceTier"]:
        return sorted(self.price_tiers.all(), key=lambda t: t.min_seats)

    @property
    def price_rows(self) -> list[tuple[str, int]]:
        """("1–4", 12000), ("5 or more", 10000): the price table, labelled by seat range."""
        tiers = self.tier_list
        rows = []
        for i, tier in enumerate(tiers):
            upper = tiers[i + 1].min_seats - 1 if i + 1 < len(tiers) else None
            if upper is None:
                label = f"{tier.min_seats} or more" if tier.min_seats > 1 or len(tiers) > 1 else "Each seat"
            elif upper == tier.min_seats:
                label = str(tier.min_seats)
            else:
                label = f"{tier.min_seats}–{upper}"
            rows.append((label, tier.unit_price_cents))
        return rows

    @property
    def base_tier(self) -> "PriceTier | None":
        tiers = self.tier_list
        return tiers[0] if tiers else None

    @property
    def team_tier(self) -> "PriceTier | None":
        tiers = self.tier_list
        return tiers[-1] if len(tiers) > 1 else None

    @property
    def seats_left(self) -> int:
        """Needs the `seats_taken` annotation from registrations.selectors.with_seats_taken."""
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_sold_out(self) -> bool:
        return self.seats_left == 0

    def registration_closes(self) -> datetime | None:
        if self.registration_closes_at:
            return self.registration_closes_at
        first = self.first_session
        return first.starts_at if first else None

    def registration_state(self, now: datetime | None = None) -> str:
        """'open', 'not_yet_open' or 'closed' (sold out is decided with the seat count)."""
        now = now or timezone.now()
        if self.registration_opens_at and now < self.registration_opens_at:
            return "not_yet_open"
        closes = self.registration_closes()
        if closes is None or now >= closes:
            return "closed"
        return "open"

    def seat_changes_close_at(self) -> datetime | None:
        first = self.first_session
        if first is None:
            return None
        return first.starts_at - timedelta(hours=self.seat_changes_close_hours)

    def affinity_choice_closes_at(self, now: datetime | None = None) -> datetime | None:
        """When choices close before the next live session (in the past once the last has started)."""
        sessions = self.session_list
        if not sessions:
            return None
        now = now or timezone.now()
        upcoming = [s for s in sessions if s.starts_at > now]
        anchor = upcoming[0] if upcoming else sessions[-1]
        return anchor.starts_at - timedelta(hours=self.affinity_choice_close_hours)


class Session(CatalogRow):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(max_length=100, default="Live session")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    meeting_url = models.URLField(blank=True, help_text="Shown only to paid attendees, shortly before the session.")

    class Meta(CatalogRow.Meta):
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"),
        ]
        indexes = [models.Index(fields=["workshop", "starts_at"])]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at, zoneinfo.ZoneInfo(self.workshop.time_zone))
        return f"{self.title} – {local:%a %b %-d %Y, %-I:%M %p %Z}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "A session must end after it starts."})

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class PreworkModule(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="prework_modules")
    title = models.CharField(max_length=200)
    minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    url = models.URLField(blank=True, help_text="Where the material lives (video, reading).")
    body = models.TextField(blank=True, help_text="Instructions shown on the attendee's page.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.minutes} min)"

    @property
    def attached_file(self) -> "PreworkFile | None":
        """The attached file (its data deferred where the module was loaded with it), or None."""
        try:
            return self.file
        except PreworkFile.DoesNotExist:
            return None


class PreworkFile(models.Model):
    """A file staff attach to a pre-work module (a reading, a worksheet). Kept in the database, so
    every app server can hand it out; attendees download it from their own page."""

    module = models.OneToOneField(PreworkModule, on_delete=models.CASCADE, related_name="file")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "pre-work file"

    def __str__(self) -> str:
        return self.name

    @property
    def size_label(self) -> str:
        if self.size >= 1024 * 1024:
            return f"{self.size / (1024 * 1024):.1f} MB"
        return f"{max(self.size // 1024, 1)} KB"


class PriceTier(CatalogRow):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="price_tiers")
    min_seats = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text="This price applies to orders of at least this many seats."
    )
    unit_price_cents = models.PositiveIntegerField(help_text="Price per seat, in cents (12000 = $120.00).")

    class Meta(CatalogRow.Meta):
        ordering = ["min_seats"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "min_seats"], name="price_tier_unique_min_seats"),
            models.CheckConstraint(condition=models.Q(min_seats__gte=1), name="price_tier_min_seats_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.min_seats}+ seats at ${self.unit_price_cents / 100:,.2f}"


# A label starting with one of these would run as a formula when a CSV export is opened in a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def validate_not_formula(value: str) -> None:
    if value.startswith(FORMULA_PREFIXES):
        raise ValidationError("Start with a letter or digit, not = + - or @ (spreadsheets would read it as a formula).")


class AffinityGroup(CatalogRow):
    """One racial affinity group a workshop offers, in staff's own words, shown to attendees in `position` order.

    Its label names its breakout rooms ("<label> 1", "<label> 2", ...), in the plan and in Zoom.
    """

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="affinity_groups")
    label = models.CharField(
        max_length=60,
        validators=[validate_not_formula],
        help_text="Shown to attendees and used for the breakout rooms' names, e.g. “Multiracial” gives "
        "“Multiracial 1”, “Multiracial 2”.",
    )
    description = models.CharField(
        max_length=300, blank=True, help_text="One or two sentences attendees read before choosing."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the attendee's page (lowest first).")

    class Meta(CatalogRow.Meta):
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "label"], name="affinity_group_unique_label"),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self):
        self.label = (self.label or "").strip()
        if self.label and self.label[-1].isdigit():
            # "Group 2" would make rooms named "Group 2 1", easily mistaken for another group's room.
            raise ValidationError({"label": "End the label with a word, not a number: room numbers are added to it."})


class AffinityFacilitator(models.Model):
    """Who leads a group's rooms: a staff user (who then sees that group's rooms in admin) or a name and email."""

    group = models.ForeignKey(AffinityGroup, on_delete=models.CASCADE, related_name="facilitators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="affinity_facilitations",
        limit_choices_to={"is_staff": True},
        help_text="A staff login: they see this group's room list and access needs in admin. Blank: give a name and email.",
    )
    name = models.CharField(max_length=200, blank=True, help_text="For a facilitator without a staff login.")
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["group", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | (~models.Q(name="") & ~models.Q(email="")),
                name="affinity_facilitator_user_or_name_and_email",
            ),
            models.UniqueConstraint(fields=["group", "user"], name="affinity_facilitator_once_per_group"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self):
        if self.user_id is None and not (self.name.strip() and self.email.strip()):
            raise ValidationError("Choose a staff user, or give the facilitator's name and email.")

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.user_id:
            return self.user.get_full_name() or self.user.get_username()
        return self.email
