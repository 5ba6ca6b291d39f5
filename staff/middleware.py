"""The audit trail runs only for staff requests: auditlog's middleware for staff, auditlog switched off otherwise.

Off means not even auditlog's read of the row before each save, so a public page or a Stripe webhook
costs no query for the trail (tests/perf counts them).
"""

from auditlog.context import auditlog_value, disable_auditlog
from auditlog.middleware import AuditlogMiddleware


class StaffAuditMiddleware(AuditlogMiddleware):
    """Place after AuthenticationMiddleware."""

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            try:
                return super().__call__(request)
            finally:
                # auditlog leaves the actor set; code run later on this thread (a command, a test) is not theirs.
                auditlog_value.set({})
        with disable_auditlog():
            return self.get_response(request)
