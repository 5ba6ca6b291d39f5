"""Daily: delete access needs ACCESS_NEEDS_RETENTION_DAYS after each workshop's last session, and the hashed
network of card checkouts whose hold is over."""

from django.core.management.base import BaseCommand

from staff.services import purge_personal_data


class Command(BaseCommand):
    help = "Delete attendees' access needs a set number of days after their workshop ended (run daily)."

    def handle(self, *args, **options):
        count = purge_personal_data()
        self.stdout.write(f"Deleted the access needs of {count} seat(s).")
