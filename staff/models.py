"""What staff did with personal data that no other record shows: each erasure, without whose it was."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Erasure(models.Model):
    """A person's personal data erased on request: who did it, when, why and how many records; never whose."""

    erased_at = models.DateTimeField(default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(
        max_length=200, blank=True, help_text="Why, e.g. “Request by email on March 2”. No name or email address."
    )
    orders = models.PositiveIntegerField(default=0, help_text="Orders whose buyer or billing contact was anonymised.")
    seats = models.PositiveIntegerField(default=0)
    waitlist_entries = models.PositiveIntegerField(default=0)
    other_records = models.PositiveIntegerField(
        default=0, help_text="Quotes, seat alerts, emails sent, reminders, certificates and audit entries."
    )

    class Meta:
        ordering = ["-erased_at"]
        default_permissions = ("view",)
        permissions = [("erase_person", "Can erase a person's personal data")]

    def __str__(self) -> str:
        return f"Erasure on {self.erased_at:%Y-%m-%d %H:%M} UTC"
