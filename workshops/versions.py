"""catalog_version: the token a workshop gets anew whenever its sessions, price tiers or affinity groups change,
which processes' copies of those rows are keyed on (catalog.py).

Cache invalidation, not a business rule. save() and delete() of a row bump it through signals.py (a queryset's
delete() sends post_delete for each row but calls no model method); update(), bulk_create() and bulk_update(),
which send no signal per row, bump it here. Always in the same transaction as the change.
"""

import secrets

from django.db import models


def new_catalog_version() -> str:
    return secrets.token_hex(8)


def bump_catalog_version(row_model: type[models.Model], workshop_ids) -> None:
    """Every process's copy of these workshops' rows is out of date from the next request on."""
    workshop_model = row_model._meta.get_field("workshop").related_model
    workshop_model.objects.filter(pk__in={pk for pk in workshop_ids if pk is not None}).update(
        catalog_version=new_catalog_version()
    )


class CatalogRowQuerySet(models.QuerySet):
    """Sessions, price tiers and affinity groups: writes that send no signal per row still give their workshops a
    new catalog_version."""

    def update(self, **kwargs):
        affected = set(self.values_list("workshop_id", flat=True))
        changed = super().update(**kwargs)
        moved_to = kwargs.get("workshop_id", kwargs.get("workshop"))
        bump_catalog_version(self.model, affected | {getattr(moved_to, "pk", moved_to)})
        return changed

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        bump_catalog_version(self.model, (obj.workshop_id for obj in created))
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        changed = super().bulk_update(objs, fields, *args, **kwargs)
        bump_catalog_version(self.model, (obj.workshop_id for obj in objs))
        return changed
