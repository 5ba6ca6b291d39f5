"""catalog_version: the token a workshop gets anew whenever its sessions, price tiers or affinity groups change,
which processes' copies of those rows are keyed on (catalog.py).

Cache invalidation, not a business rule. Always renewed in the same transaction as the change, so a change is
never committed without it: CatalogRow.save() renews it for the row's workshop (and the one it left, when staff
move a row), CatalogRowQuerySet for update(), bulk_create() and bulk_update(), which send no signal per row (it is
the base manager too, which a reverse foreign key's add() and set() write through), and
signals.py for deletes (a queryset's delete() sends post_delete for each row, inside the deletion's transaction).
Workshop.save() renews its own, so a workshop saved from an instance read before a change cannot write back
the token an out-of-date copy is kept under.
"""

import secrets

from django.db import models, router, transaction


def new_catalog_version() -> str:
    return secrets.token_hex(8)


def bump_catalog_version(row_model: type[models.Model], workshop_ids, *, using: str = "default") -> None:
    """Every process's copy of these workshops' rows is out of date from the next request on."""
    workshop_model = row_model._meta.get_field("workshop").related_model
    workshop_model.objects.using(using).filter(pk__in={pk for pk in workshop_ids if pk is not None}).update(
        catalog_version=new_catalog_version()
    )


class CatalogRowQuerySet(models.QuerySet):
    def update(self, **kwargs):
        with transaction.atomic(using=self.db):
            # The rows are locked first, so one added meanwhile is neither updated nor missed by the renewal.
            rows = list(self.select_for_update().values_list("pk", "workshop_id"))
            locked = self.model._base_manager.using(self.db).filter(pk__in=[pk for pk, _ in rows])
            changed = super(CatalogRowQuerySet, locked).update(**kwargs)
            moved_to = kwargs.get("workshop_id", kwargs.get("workshop"))
            bump_catalog_version(self.model, {w for _, w in rows} | {getattr(moved_to, "pk", moved_to)}, using=self.db)
        return changed

    def bulk_create(self, objs, *args, **kwargs):
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            bump_catalog_version(self.model, (obj.workshop_id for obj in created), using=self.db)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            before = self.model._base_manager.using(self.db).filter(pk__in=[o.pk for o in objs])
            left = set(before.values_list("workshop_id", flat=True))
            changed = super().bulk_update(objs, fields, *args, **kwargs)
            bump_catalog_version(self.model, left | {obj.workshop_id for obj in objs}, using=self.db)
        return changed


class CatalogRow(models.Model):
    """A row a workshop's catalog copy holds (Session, PriceTier, AffinityGroup)."""

    objects = CatalogRowQuerySet.as_manager()

    class Meta:
        abstract = True
        # Django writes through the base manager too: a reverse foreign key's add() and set()
        # (`workshop.price_tiers.add(tier)`) move rows with `_base_manager.filter(...).update(workshop=...)`.
        base_manager_name = "objects"

    def save(self, *args, **kwargs):
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            left = None
            if self.pk is not None:  # staff may move a row to another workshop
                left = type(self)._base_manager.using(using).filter(pk=self.pk).values_list("workshop_id", flat=True).first()
            super().save(*args, **kwargs)
            bump_catalog_version(type(self), {self.workshop_id, left}, using=using)
