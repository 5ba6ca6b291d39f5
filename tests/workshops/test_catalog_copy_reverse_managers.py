"""Rows moved between workshops with a reverse foreign key's add() or set() renew both workshops' catalog_version.

Django moves them with `Model._base_manager.filter(pk__in=...).update(workshop=...)`: the base manager of sessions,
price tiers and affinity groups is CatalogRowQuerySet's, so every process stops serving, and checkout stops
charging, the rows as they were before the move. (An independent review found both copies kept stale.)"""

import pytest
from django.test import Client

from registrations.models import Order
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data
from workshops.catalog import with_catalog
from workshops.models import PriceTier, Session, Workshop

pytestmark = pytest.mark.django_db


def _register_url(workshop) -> str:
    return f"/workshops/{workshop.slug}/register/"


def _copy(workshop, name):
    return [(row.pk, row.workshop_id) for row in getattr(with_catalog(Workshop.objects).get(pk=workshop.pk), name).all()]


def _database(model, workshop):
    return list(model.objects.filter(workshop=workshop).order_by(*model._meta.ordering, "pk").values_list("pk", "workshop_id"))


def test_a_tier_moved_with_the_reverse_manager_add_no_longer_prices_the_workshop_it_left(settings):
    settings.STRIPE_SECRET_KEY = ""
    a, b = WorkshopFactory(), WorkshopFactory()
    PriceTier.objects.filter(workshop=b, min_seats=5).delete()
    team = PriceTier.objects.get(workshop=a, min_seats=5)  # $100 a seat for 5 or more
    Client().get(_register_url(a))  # this process keeps A's tiers, with the team tier
    Client().get(_register_url(b))

    b.price_tiers.add(team)  # e.g. a shell or a future "move tier" admin action
    assert list(PriceTier.objects.filter(workshop=a).values_list("min_seats", flat=True)) == [1]

    Client().post(_register_url(a), registration_data(seat_count=5, buyer_email="team@lincoln.example"))
    assert Order.objects.get(workshop=a).total_cents == 5 * 12000  # A has no team price any more


def test_sessions_moved_with_the_reverse_manager_set_show_on_both_workshops():
    a, b = WorkshopFactory(), WorkshopFactory()
    _copy(a, "sessions")  # both copies kept
    _copy(b, "sessions")
    b.sessions.set(list(Session.objects.filter(workshop=a)))  # non-nullable key: set() only adds
    assert _copy(a, "sessions") == _database(Session, a) == []
    assert sorted(_copy(b, "sessions")) == sorted(_database(Session, b))
