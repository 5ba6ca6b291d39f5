"""The registration form, checkout start and the workshop page read their workshop with the statement Django compiles
for get_object_or_404(workshops_for_catalog(), slug=...), compiled once (workshops/selectors.catalog_workshop_or_404).
For any mix of workshops (published or not, listed or not, slugs in any case) and any slug asked for, the answer is
the queryset's: the same row, the same sessions, prices and affinity groups, or the same 404."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workshops import catalog
from workshops.models import AffinityGroup, PriceTier, Session
from workshops.selectors import catalog_workshop_or_404, workshops_for_catalog
from tests.factories import WorkshopFactory

pytestmark = pytest.mark.django_db

SLUGS = ("spring", "Spring", "fall", "o-neil")

workshops = st.lists(
    st.fixed_dictionaries({
        "slug": st.sampled_from(SLUGS), "is_published": st.booleans(), "is_listed": st.booleans(),
        "capacity": st.integers(min_value=1, max_value=500), "sessions": st.integers(min_value=0, max_value=3),
        "tiers": st.lists(st.integers(min_value=1, max_value=9), unique=True, max_size=3),
        "groups": st.integers(min_value=0, max_value=2),
    }),
    max_size=4, unique_by=lambda w: w["slug"],
)


def _read(read, slug):
    try:
        workshop = read(slug)
    except Http404:
        return "404"
    fields = {f.attname: getattr(workshop, f.attname) for f in workshop._meta.concrete_fields}
    related = [
        [(type(row).__name__, row.pk, row.workshop is workshop) for row in getattr(workshop, name).all()]
        for name in ("sessions", "price_tiers", "affinity_groups")
    ]
    return fields, related, workshop._state.db, workshop._state.adding


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=workshops, slug=st.sampled_from(SLUGS + ("missing",)))
def test_the_catalog_workshop_is_the_querysets(rows, slug):
    with transaction.atomic():  # each example on its own rows
        _compare(rows, slug)
        transaction.set_rollback(True)


def _compare(rows, slug):
    start = timezone.now() + timedelta(days=30)
    for row in rows:
        workshop = WorkshopFactory(
            with_schedule=False, slug=row["slug"], is_published=row["is_published"], is_listed=row["is_listed"],
            capacity=row["capacity"],
        )
        for n in range(row["sessions"]):
            at = start + timedelta(days=7 * n)
            Session.objects.create(workshop=workshop, title=f"Session {n}", starts_at=at, ends_at=at + timedelta(hours=2))
        for seats in row["tiers"]:
            PriceTier.objects.create(workshop=workshop, min_seats=seats, unit_price_cents=1000 * seats)
        for n in range(row["groups"]):
            AffinityGroup.objects.create(workshop=workshop, label=f"Group {n}", position=n)
    catalog.forget_all()
    compiled = _read(catalog_workshop_or_404, slug)
    catalog.forget_all()
    assert compiled == _read(lambda s: get_object_or_404(workshops_for_catalog(), slug=s), slug)
