"""Deleting a workshop's sessions, price tiers or affinity groups (one row, a queryset, or a cascade) gives it a new
catalog_version (versions.py): cache invalidation, not business rules. post_delete is sent inside the deletion's
transaction. Connected for proxy models of those rows too: Django sends a proxy's signals with the proxy as sender.
"""

from django.apps import apps
from django.db.models.signals import post_delete

from .catalog import KEPT
from .versions import bump_catalog_version


def _deleted(sender, instance, using, **kwargs) -> None:
    bump_catalog_version(sender, [instance.workshop_id], using=using)


def connect() -> None:
    kept = {model for model, _ordering in KEPT.values()}
    for model in apps.get_models():
        if model._meta.concrete_model in kept:
            post_delete.connect(_deleted, sender=model, dispatch_uid=f"catalog_version_{model._meta.label_lower}_delete")
