"""The audit trail: every change staff make to money or personal data, with who, when, what and before/after.

django-auditlog writes a LogEntry (actor, timestamp, object, {field: [before, after]}) whenever one of
the models below is created, saved or deleted, and its middleware names the signed-in user as the
actor. Only changes made by a staff user are kept: a buyer registering or a Stripe webhook landing is
not a staff change (the orders and events are their own record), and copying every public change
would make a second store of personal data. (One exception: auditlog records changes to staff
accounts' roles and workshops' facilitators, many-to-many links, whoever makes them; one made by a
script has no actor.) Staff read the trail in admin (Audit log → Log entries), read-only.

Erasing a person and deleting access needs on schedule also blank those values here
(`redact_entries`), or the trail would keep what was erased.
"""

from collections.abc import Iterable

from auditlog.context import auditlog_value
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import pre_log
from django.apps import apps
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

ERASED = "[erased]"

# Model → options for auditlog.register. Fields left out are tokens (a private link in the trail would
# be a way in), the hashed network a card checkout came from (kept only while its hold lasts) and bookkeeping
# timestamps.
AUDITED: dict[str, dict] = {
    "registrations.Order": {"exclude_fields": ["token", "stripe_checkout_url", "hold_source", "updated_at"]},
    "registrations.Seat": {"exclude_fields": ["token", "updated_at"]},
    "registrations.Payment": {},
    "registrations.Refund": {},
    "registrations.RefundPart": {},
    "registrations.Voucher": {},
    "registrations.Quote": {},
    "registrations.Certificate": {},
    "registrations.SeatAlert": {},
    "workshops.PriceTier": {},
    "workshops.Workshop": {"include_fields": ["capacity", "is_published"], "m2m_fields": {"facilitators"}},
    "cohorts.Cohort": {"include_fields": ["price_cents", "capacity", "status", "is_published"]},
    "cohorts.WaitlistEntry": {"exclude_fields": ["token", "updated_at"]},
    "auth.User": {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups", "user_permissions"}},
    "auth.Group": {"m2m_fields": {"permissions"}},
    "staff.Erasure": {},
}

# Fields holding personal data, per model: what erasing a person blanks in the trail.
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "registrations.Order": ("buyer_name", "buyer_email", "billing_name", "billing_email"),
    "registrations.Seat": ("attendee_name", "attendee_email", "needs_captions", "needs_interpreter", "access_note"),
    "registrations.Quote": ("contact_name", "contact_email"),
    "registrations.Certificate": ("attendee_name",),
    "registrations.SeatAlert": ("email",),
    "cohorts.WaitlistEntry": ("name", "email", "note"),
}

ACCESS_NEEDS_FIELDS = ("needs_captions", "needs_interpreter", "access_note")


def staff_actor():
    """The staff user this request acts for, or None (a visitor, a webhook, the worker, a command)."""
    try:
        context = auditlog_value.get()
    except LookupError:
        return None
    actor = context.get("actor")
    return actor if actor is not None and getattr(actor, "is_staff", False) else None


def _only_staff_changes(sender, instance, action, **kwargs) -> bool:
    return staff_actor() is not None


def register_models() -> None:
    pre_log.connect(_only_staff_changes, dispatch_uid="staff.audit.only_staff_changes")
    for label, options in AUDITED.items():
        model = apps.get_model(label)
        if not auditlog.contains(model):
            auditlog.register(model, **options)


def redact_entries(objects: Iterable[Model], *, fields: Iterable[str] | None = None) -> int:
    """Blank values in the audit trail (and admin's own history) of these objects. Returns entries changed.

    With `fields`, only those fields' before/after values; without, every personal field and the
    object's name as recorded (which shows a name or an email address).
    """
    by_type: dict[int, list[str]] = {}
    for obj in objects:
        content_type = ContentType.objects.get_for_model(obj)
        by_type.setdefault(content_type.pk, []).append(str(obj.pk))
    fields = tuple(fields) if fields is not None else None
    changed = 0
    for content_type_id, pks in by_type.items():
        label = ContentType.objects.get_for_id(content_type_id).model_class()._meta.label
        wanted = fields if fields is not None else PERSONAL_FIELDS.get(label, ())
        for entry in LogEntry.objects.filter(content_type_id=content_type_id, object_pk__in=pks):
            changes = entry.changes if isinstance(entry.changes, dict) else {}
            redacted = {name: ([ERASED, ERASED] if name in wanted else value) for name, value in changes.items()}
            updates = {}
            if redacted != changes:
                updates["changes"] = redacted
                updates["changes_text"] = ""
            if fields is None:
                updates.update(object_repr=ERASED, serialized_data=None, additional_data=None)
            if updates:
                changed += LogEntry.objects.filter(pk=entry.pk).update(**updates)
        if fields is None:
            changed += AdminLogEntry.objects.filter(content_type_id=content_type_id, object_id__in=pks).update(
                object_repr=ERASED
            )
    return changed
