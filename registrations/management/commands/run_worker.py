"""`manage.py run_worker`: the background worker that delivers email and runs refund tasks."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tasks_db.models import DBTaskResult

from registrations.models import OutboundEmail
from registrations.tasks import deliver_email, deliver_emails


class Command(BaseCommand):
    help = (
        "Run the background worker (emails, automatic refunds). On start it re-queues every email "
        "that was never sent, so a worker killed mid-task loses nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Run what is due, then exit.")

    def handle(self, *args, batch: bool = False, **options):
        # Emails whose delivery task is no longer waiting: claimed by a worker that died, or failed.
        waiting_ids, waiting_keys = set(), set()
        ready = DBTaskResult.objects.filter(
            task_path__in=[deliver_email.module_path, deliver_emails.module_path], status="READY"
        ).values("task_path", "args_kwargs")
        for row in ready:
            args = row["args_kwargs"].get("args") or []
            if not args:
                continue
            if row["task_path"] == deliver_email.module_path:
                waiting_ids.add(args[0])
            else:
                waiting_keys.update(args[0])
        unsent = [
            pk
            for pk, key in OutboundEmail.objects.filter(sent_at__isnull=True).values_list("pk", "key")
            if pk not in waiting_ids and key not in waiting_keys
        ]
        for email_id in unsent:
            # Even a duplicate task is harmless: delivery re-checks sent_at under a row lock.
            deliver_email.enqueue(email_id)
        if unsent:
            self.stdout.write(f"Re-queued {len(unsent)} unsent email(s).")
        worker_args = ["--queue-name", "*", "--no-reload"]
        if batch:
            worker_args += ["--batch", "--no-startup-delay"]
        call_command("db_worker", *worker_args, verbosity=options.get("verbosity", 1))
