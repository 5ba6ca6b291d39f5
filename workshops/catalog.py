"""A workshop's sessions, price tiers and affinity groups, kept in the process between requests.

The workshop page, the registration form and checkout start read them on every request (three
queries, most of a checkout's ORM work), while staff change them a few times a year. Each process
keeps the last copy it read of each workshop's rows, keyed on the workshop's `catalog_version`: a
random token the workshop gets when it is created and anew whenever one of those rows changes, in the
same transaction (versions.py). The workshop row itself, with its capacity, dates and publication, is
always read fresh; a copy is used only beside the row whose version it was read with, so a change shows
on the next request that reads the row, in every process.

A random token rather than a counter: a test database rolled back, or a workshop deleted and another
created with the same id, never brings back a version some process has a copy for.

Each request gets its own model instances built from the kept values: nothing a request sets on them
reaches another request or thread.
"""

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.query import ModelIterable

from .models import AffinityGroup, PriceTier, Session, Workshop

# Related name on Workshop -> the model and the order its rows are listed in.
KEPT = {
    "sessions": (Session, ("starts_at", "id")),
    "price_tiers": (PriceTier, ("min_seats",)),
    "affinity_groups": (AffinityGroup, ("position", "id")),
}


@dataclass(frozen=True)
class _Copy:
    version: str
    db: str
    rows: dict[str, tuple[tuple[str, ...], list[tuple]]]  # related name -> (field names, each row's values)


_copies: dict[int, _Copy] = {}
_lock = threading.Lock()


def _read(workshop_ids: list[int], db: str) -> dict[int, dict[str, tuple[tuple[str, ...], list[tuple]]]]:
    """The kept rows of these workshops, as values: one query per kind of row."""
    read: dict[int, dict] = {pk: {} for pk in workshop_ids}
    for name, (model, ordering) in KEPT.items():
        names = tuple(f.attname for f in model._meta.concrete_fields)
        per_workshop: dict[int, list[tuple]] = {pk: [] for pk in workshop_ids}
        rows = model._base_manager.using(db).filter(workshop_id__in=workshop_ids).order_by(*ordering).values_list(*names)
        at = names.index("workshop_id")
        for row in rows:
            per_workshop[row[at]].append(row)
        for pk in workshop_ids:
            read[pk][name] = (names, per_workshop[pk])
    return read


def _attach(workshop: Workshop, rows: dict[str, tuple[tuple[str, ...], list[tuple]]], db: str) -> None:
    """Give the workshop its rows as Django's prefetch_related would: `workshop.sessions.all()` and the
    like answer from them without a query, and each row's `.workshop` is this workshop."""
    cache = workshop.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, (names, values) in rows.items():
        model = KEPT[name][0]
        instances = []
        for row in values:
            instance = model.from_db(db, names, row)
            instance.workshop = workshop
            instances.append(instance)
        cache.pop(name, None)  # read again (checkout start under the workshop lock)
        queryset = getattr(workshop, name).all()
        queryset._result_cache = instances
        queryset._prefetch_done = True
        cache[name] = queryset


def attach(workshops: Iterable[Workshop]) -> None:
    """Attach each workshop's sessions, price tiers and affinity groups, from this process's copy when it
    is of the workshop's current version, else read (in one query per kind for all that need it) and kept."""
    workshops = [w for w in workshops if w.pk is not None]
    if not workshops:
        return
    db = workshops[0]._state.db or "default"
    missing = []
    for workshop in workshops:
        copy = _copies.get(workshop.pk)
        if copy is not None and copy.version == workshop.catalog_version and copy.db == db:
            _attach(workshop, copy.rows, db)
        else:
            missing.append(workshop)
    if not missing:
        return
    # Rows read inside a transaction that is later rolled back are kept under the version the same
    # transaction gave them, which rolls back with it: no request reads that version again.
    read = _read(list({w.pk for w in missing}), db)
    with _lock:
        for workshop in missing:
            _copies[workshop.pk] = _Copy(version=workshop.catalog_version, db=db, rows=read[workshop.pk])
    for workshop in missing:
        _attach(workshop, read[workshop.pk], db)


class CatalogIterable(ModelIterable):
    """Workshops as a queryset yields them, each with its sessions, tiers and groups attached."""

    def __iter__(self):
        workshops = list(super().__iter__())
        attach(workshops)
        yield from workshops


def with_catalog(workshops: QuerySet[Workshop]) -> QuerySet[Workshop]:
    """The queryset, its workshops each given its sessions, price tiers and affinity groups as
    prefetch_related would, from this process's copy when it is current."""
    clone = workshops.all()
    clone._iterable_class = CatalogIterable
    return clone


def forget_all() -> None:
    """Drop every kept copy (tests that change rows behind the ORM's back)."""
    with _lock:
        _copies.clear()
