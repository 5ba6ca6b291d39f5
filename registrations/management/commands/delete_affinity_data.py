"""Delete affinity-group choices, Zoom emails and breakout placements of workshops that ended long enough ago."""

from django.core.management.base import BaseCommand

from registrations.services.affinity import affinity_retention_days, delete_expired_affinity_data


class Command(BaseCommand):
    help = (
        "Delete every affinity-group choice, Zoom account email and breakout-room placement of workshops whose "
        "last session ended AFFINITY_RETENTION_DAYS (default 30) days ago or more. Run it daily; safe to repeat."
    )

    def handle(self, *args, **options):
        deleted = delete_expired_affinity_data()
        self.stdout.write(
            f"Deleted {deleted} affinity-group row(s) of workshops that ended {affinity_retention_days()} or more days ago."
        )
