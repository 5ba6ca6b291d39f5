"""An attendee's private affinity-group choice, and staff's breakout-room placements per live session.

Both are sensitive (which racial affinity group a person joins): only the attendee, the group's facilitators
and coordinators see them, and `services.affinity.delete_affinity_data` removes them after the workshop.
"""

from django.db import models

from workshops.models import AffinityGroup, Session

from .orders import Seat


class AffinityChoice(models.Model):
    """The group an attendee chose for the live sessions (optional), and the email of their Zoom account
    when it differs from the one they registered with (Zoom pre-assigns rooms by account email)."""

    seat = models.OneToOneField(Seat, on_delete=models.CASCADE, related_name="affinity_choice")
    group = models.ForeignKey(
        AffinityGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="choices"
    )
    zoom_email = models.EmailField("Zoom account email", blank=True)
    chosen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # An empty row says nothing: withdrawing both deletes the row instead.
            models.CheckConstraint(
                condition=models.Q(group__isnull=False) | ~models.Q(zoom_email=""), name="affinity_choice_not_empty"
            ),
        ]

    def __str__(self) -> str:
        # Never the group: this string shows up in admin messages and logs.
        return f"Affinity choice #{self.pk}"


class BreakoutPlacement(models.Model):
    """Staff's decision for one attendee at one live session, overriding the automatic plan:
    into a given room of a group, or not attending this session."""

    class Kind(models.TextChoices):
        ROOM = "room", "Placed in a room"
        ABSENT = "absent", "Not attending this session"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="breakout_placements")
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="breakout_placements")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    group = models.ForeignKey(
        AffinityGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="placements"
    )
    room_number = models.PositiveSmallIntegerField(null=True, blank=True)
    placed_by = models.CharField(max_length=150, blank=True, help_text="The staff user who made the change.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "seat"], name="breakout_placement_once_per_session"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="room", group__isnull=False, room_number__gte=1)
                    | models.Q(kind="absent", group__isnull=True, room_number__isnull=True)
                ),
                name="breakout_placement_room_or_absent",
            ),
        ]

    def __str__(self) -> str:
        return f"Breakout placement #{self.pk}"


class BreakoutPlan(Session):
    """The breakout plan in admin: a view of live sessions, with the permissions that guard it."""

    class Meta:
        proxy = True
        verbose_name = "breakout plan"
        verbose_name_plural = "breakout rooms"
        default_permissions = ()
        permissions = [
            ("view_breakout_plan", "Can see every group's breakout rooms and export them for Zoom"),
            ("move_breakout_rooms", "Can move people between breakout rooms before a session"),
            ("view_own_breakout_rooms", "Can see the breakout rooms of the groups they facilitate"),
        ]
