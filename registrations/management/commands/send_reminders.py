"""Queue due reminders and tidy unpaid invoices. Run it every few minutes (cron, a scheduler)."""

from django.core.management.base import BaseCommand

from registrations.services.invoices import tidy_invoices
from registrations.services.learning import send_due_reminders


class Command(BaseCommand):
    help = (
        "Email pre-work, session and invoice reminders that are due, and void unpaid invoices whose seat hold "
        "lapsed. Each reminder goes out once, however often this runs."
    )

    def handle(self, *args, **options):
        queued = send_due_reminders()
        self.stdout.write(f"Queued {queued.prework} pre-work reminder(s) and {queued.session} session reminder(s).")
        invoices = tidy_invoices()
        if invoices.reminded or invoices.lapsed or invoices.voided:
            self.stdout.write(
                f"Queued {invoices.reminded} invoice reminder(s); closed {invoices.lapsed} lapsed invoice order(s); "
                f"voided {invoices.voided} invoice(s) in Stripe."
            )
