"""Every background task, by the import path its queued rows name (`manage.py run_worker`, django-tasks' database backend).

Each task lives beside the work it does; this module keeps the paths that rows queued before the
code was split into packages still name, so the worker finds them after an upgrade.
"""

from .outbox import deliver_email, deliver_emails
from .services.refunds import refund_duplicate_payment_task as refund_duplicate_payment
from .services.refunds import refund_oversold_order

__all__ = ["deliver_email", "deliver_emails", "refund_duplicate_payment", "refund_oversold_order"]
