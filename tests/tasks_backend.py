import dataclasses

from django.db import transaction
from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend


class ImmediateOnCommitBackend(ImmediateBackend):
    """Test-only: run each task once the transaction that enqueued it commits.

    Deferred tasks (retries scheduled for later) are not run here; they are kept in `deferred`, and
    `run_due_tasks()` runs those whose time has come, as the worker would (the hypothesis money machine
    uses it). The reliability tests use the real database backend and worker instead.
    """

    supports_defer = True
    deferred: list = []  # (run after, task, args, kwargs), shared by every instance

    def enqueue(self, task, args, kwargs):
        immediate = dataclasses.replace(task, run_after=None)
        if task.run_after is not None:
            transaction.on_commit(lambda: self.deferred.append((task.run_after, immediate, args, kwargs)))
            return None
        transaction.on_commit(lambda: ImmediateBackend.enqueue(self, immediate, args, kwargs))
        return None

    @classmethod
    def forget_deferred(cls) -> None:
        cls.deferred.clear()

    def run_due_tasks(self) -> int:
        """Run the deferred tasks that are due now (each once); returns how many ran."""
        now = timezone.now()
        due = [entry for entry in self.deferred if entry[0] <= now]
        for entry in due:
            self.deferred.remove(entry)
        for _, task, args, kwargs in due:
            ImmediateBackend.enqueue(self, task, args, kwargs)
        return len(due)
