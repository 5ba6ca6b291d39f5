import dataclasses

from django.db import transaction
from django_tasks.backends.immediate import ImmediateBackend


class ImmediateOnCommitBackend(ImmediateBackend):
    """Test-only: run each task once the transaction that enqueued it commits.

    Deferred tasks (retries scheduled for later) are not run here; the reliability
    tests use the real database backend and worker for those.
    """

    supports_defer = True

    def enqueue(self, task, args, kwargs):
        if task.run_after is not None:
            return None
        immediate = dataclasses.replace(task, run_after=None)
        transaction.on_commit(lambda: ImmediateBackend.enqueue(self, immediate, args, kwargs))
        return None
