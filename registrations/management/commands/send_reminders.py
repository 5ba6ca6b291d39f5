"""Queue due pre-work and session reminders. Run it every few minutes (cron, a scheduler)."""

from django.core.management.base import BaseCommand

from registrations.services import send_due_reminders


class Command(BaseCommand):
    help = "Email pre-work and session reminders that are due. Each reminder goes out once, however often this runs."

    def handle(self, *args, **options):
        queued = send_due_reminders()
        self.stdout.write(f"Queued {queued.prework} pre-work reminder(s) and {queued.session} session reminder(s).")
