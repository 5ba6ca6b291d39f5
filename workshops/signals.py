"""save() and delete() of a workshop's sessions, price tiers or affinity groups give it a new catalog_version
(versions.py): cache invalidation, not business rules."""

from django.db.models.signals import post_delete, post_save

from .catalog import KEPT
from .versions import bump_catalog_version


def _changed(sender, instance, **kwargs) -> None:
    bump_catalog_version(sender, [instance.workshop_id])


def connect() -> None:
    for model, _ordering in KEPT.values():
        post_save.connect(_changed, sender=model, dispatch_uid=f"catalog_version_{model._meta.label_lower}_save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"catalog_version_{model._meta.label_lower}_delete")
