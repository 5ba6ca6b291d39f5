"""The process's copy of each workshop's sessions, price tiers and affinity groups (workshops/catalog.py):
read once, then used until staff change any of them, in admin or otherwise; never seen stale, never shared."""

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from registrations.models import Order
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.staff.helpers import form_data
from workshops.catalog import with_catalog
from workshops.models import AffinityGroup, PriceTier, Session, Workshop

pytestmark = pytest.mark.django_db

KEPT_TABLES = ("workshops_session", "workshops_pricetier", "workshops_affinitygroup")


def _register_url(workshop) -> str:
    return f"/workshops/{workshop.slug}/register/"


def _tables_read(client, url) -> set[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return {t for q in ctx.captured_queries for t in KEPT_TABLES if f'"{t}"' in q["sql"]}


def test_a_second_registration_form_reads_no_sessions_prices_or_groups(client):
    workshop = WorkshopFactory()
    AffinityGroup.objects.create(workshop=workshop, label="Black", position=1)
    assert _tables_read(client, _register_url(workshop)) == set(KEPT_TABLES)
    assert _tables_read(client, _register_url(workshop)) == set()
    assert _tables_read(client, workshop.get_absolute_url()) == set()


def test_a_price_staff_change_in_admin_is_what_the_next_checkout_charges(client, staff_client, settings):
    settings.STRIPE_SECRET_KEY = ""  # test payments: the price is what matters here
    workshop = WorkshopFactory()
    workshop.prework_modules.update(url="https://example.org/reading")  # what admin asks of each module
    buyer = Client()
    assert "$120.00" in buyer.get(_register_url(workshop)).content.decode()  # the process now has a copy

    page = staff_client.get(f"/admin/workshops/workshop/{workshop.pk}/change/")
    fields = form_data(page)
    one_seat = next(name for name, value in fields.items() if re.fullmatch(r"price_tiers-\d+-min_seats", name) and value == "1")
    data = form_data(page, **{one_seat.replace("min_seats", "unit_price_cents"): "135.00"})
    response = staff_client.post(f"/admin/workshops/workshop/{workshop.pk}/change/", data)
    assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul", response.content.decode(), re.S)

    assert "$135.00" in buyer.get(_register_url(workshop)).content.decode()
    buyer.post(_register_url(workshop), registration_data())
    assert Order.objects.get(workshop=workshop).total_cents == 13500


def test_tiers_deleted_together_stop_pricing_at_once(client, settings):
    """A queryset's delete() calls no model method; the copy still goes."""
    settings.STRIPE_SECRET_KEY = ""
    workshop = WorkshopFactory()
    client.get(_register_url(workshop))
    PriceTier.objects.filter(workshop=workshop, min_seats=5).delete()
    client.post(_register_url(workshop), registration_data(seat_count=5, buyer_email="team@lincoln.example"))
    assert Order.objects.get(workshop=workshop).total_cents == 5 * 12000


def test_a_session_added_shows_on_the_workshop_page(client):
    workshop = WorkshopFactory()
    client.get(workshop.get_absolute_url())
    first = workshop.sessions.order_by("starts_at").first()
    Session.objects.create(
        workshop=workshop, title="Closing circle", starts_at=first.starts_at.replace(year=first.starts_at.year + 1),
        ends_at=first.ends_at.replace(year=first.ends_at.year + 1),
    )
    assert "Closing circle" in client.get(workshop.get_absolute_url()).content.decode()


def test_an_affinity_group_renamed_shows_on_the_next_registration_form(client):
    workshop = WorkshopFactory()
    group = AffinityGroup.objects.create(workshop=workshop, label="People of colour", position=1)
    client.get(_register_url(workshop))
    group.label = "People of Color"
    group.save()
    assert "People of Color" in client.get(_register_url(workshop)).content.decode()


def test_each_request_gets_rows_of_its_own():
    workshop = WorkshopFactory()
    first = with_catalog(Workshop.objects).get(pk=workshop.pk)
    first.tier_list[0].unit_price_cents = 1
    first.session_list[0].title = "Changed in one request only"
    again = with_catalog(Workshop.objects).get(pk=workshop.pk)
    assert again.tier_list[0].unit_price_cents == 12000
    assert again.session_list[0].title == "Live session 1"
    assert again.session_list[0].workshop is again


def test_a_change_rolled_back_is_never_served():
    workshop = WorkshopFactory()
    with_catalog(Workshop.objects).get(pk=workshop.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        PriceTier.objects.filter(workshop=workshop, min_seats=1).update(unit_price_cents=1)
        PriceTier.objects.get(workshop=workshop, min_seats=1).save()  # through the ORM: a new version
        assert with_catalog(Workshop.objects).get(pk=workshop.pk).tier_list[0].unit_price_cents == 1
        raise RuntimeError("staff's save failed")
    assert with_catalog(Workshop.objects).get(pk=workshop.pk).tier_list[0].unit_price_cents == 12000


PRICES = st.integers(min_value=100, max_value=20000)


class CatalogEdits(RuleBasedStateMachine):
    """Staff edit a workshop's tiers, sessions and groups in any order, some edits rolled back, while requests
    read it: every read gives exactly what the database holds at that moment."""

    def __init__(self):
        super().__init__()
        self.workshop = WorkshopFactory(with_schedule=False)
        PriceTier.objects.create(workshop=self.workshop, min_seats=1, unit_price_cents=12000)
        self.other = WorkshopFactory(with_schedule=False)  # rows move between the two with reverse managers
        self.first = self.workshop.pk

    def _edit(self, kind: str, seats: int, price: int) -> None:
        tiers = PriceTier.objects.filter(workshop=self.workshop, min_seats=seats)
        if kind == "price" and seats > 1:
            PriceTier.objects.update_or_create(workshop=self.workshop, min_seats=seats, defaults={"unit_price_cents": price})
        elif kind == "delete":
            tiers.exclude(min_seats=1).delete()
        elif kind == "session":
            start = datetime(2040, 1, seats, tzinfo=UTC) + timedelta(minutes=price)
            Session.objects.create(workshop=self.workshop, title=f"S{price}", starts_at=start, ends_at=start + timedelta(hours=2))
        elif kind == "drop_sessions":
            Session.objects.filter(workshop=self.workshop).delete()
        elif kind == "group":
            AffinityGroup.objects.update_or_create(workshop=self.workshop, label=f"Group {'abcdefgh'[seats % 8]}", defaults={"position": price})
        elif kind == "drop_groups":
            AffinityGroup.objects.filter(workshop=self.workshop).delete()
        elif kind == "reprice_all":  # one UPDATE: no signal per row
            PriceTier.objects.filter(workshop=self.workshop).update(unit_price_cents=price)
        elif kind == "sessions_at_once":  # bulk_create: no signal either
            start = datetime(2041, 2, seats, tzinfo=UTC) + timedelta(minutes=price)
            Session.objects.bulk_create(
                Session(workshop=self.workshop, title=f"B{price}-{n}", starts_at=start + timedelta(days=n),
                        ends_at=start + timedelta(days=n, hours=2)) for n in range(2)
            )
        elif kind == "take_session":  # moved in from the other workshop: workshop.sessions.add() is one UPDATE
            start = datetime(2042, 3, seats, tzinfo=UTC) + timedelta(minutes=price)
            moved = Session.objects.create(workshop=self.other, title=f"M{price}", starts_at=start, ends_at=start + timedelta(hours=2))
            self.reads_match_the_database()  # both copies kept with the session where it was
            self.workshop.sessions.add(moved)
        elif kind == "give_tier":  # a tier moved to the other workshop with set(): add() for a non-nullable key
            given = tiers.exclude(min_seats=1).first()
            if given is not None:
                self.other.price_tiers.filter(min_seats=given.min_seats).delete()
                self.other.price_tiers.set([given, *self.other.price_tiers.all()])
        elif kind == "regroup":
            groups = list(AffinityGroup.objects.filter(workshop=self.workshop))
            for group in groups:
                group.position = (price + 7 * group.position) % 1000
            AffinityGroup.objects.bulk_update(groups, ["position"])

    @rule(kind=st.sampled_from(["price", "delete", "session", "drop_sessions", "group", "drop_groups", "reprice_all",
                                "sessions_at_once", "regroup", "take_session", "give_tier"]),
          seats=st.integers(min_value=1, max_value=8), price=PRICES)
    def staff_edit(self, kind, seats, price):
        self._edit(kind, seats, price)

    @rule(kind=st.sampled_from(["price", "delete", "session", "group", "reprice_all", "sessions_at_once", "take_session",
                                "give_tier"]), seats=st.integers(min_value=2, max_value=8),
          price=PRICES, read_inside=st.booleans())
    def staff_edit_rolled_back(self, kind, seats, price, read_inside):
        try:
            with transaction.atomic():
                self._edit(kind, seats, price)
                if read_inside:
                    self.reads_match_the_database()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    @invariant()
    def reads_match_the_database(self):
        for workshop in (self.workshop, self.other):
            read = with_catalog(Workshop.objects).get(pk=workshop.pk)
            assert [(t.min_seats, t.unit_price_cents) for t in read.tier_list] == list(
                PriceTier.objects.filter(workshop=workshop).order_by("min_seats").values_list("min_seats", "unit_price_cents")
            )
            assert [(s.title, s.starts_at) for s in read.session_list] == list(
                Session.objects.filter(workshop=workshop).order_by("starts_at", "id").values_list("title", "starts_at")
            )
            assert [(g.label, g.position) for g in read.affinity_groups.all()] == list(
                AffinityGroup.objects.filter(workshop=workshop).order_by("position", "id").values_list("label", "position")
            )


def test_every_read_matches_the_database_whatever_staff_change_or_roll_back():
    run_state_machine_as_test(
        CatalogEdits,
        settings=settings(
            max_examples=int(os.environ.get("CATALOG_COPY_EXAMPLES", "40")), stateful_step_count=15, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
