from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations.models import Order
from tests.factories import OrderFactory, WorkshopFactory, pacific
from workshops.models import PreworkModule, PriceTier, Session

pytestmark = pytest.mark.django_db


def test_workshop_page_shows_both_prices_and_team_rule(client, workshop):
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "$120.00" in html
    assert "$100.00" in html
    assert "$100 each for teams of 5 or more" in html
    assert "1–4" in html and "5 or more" in html


def test_workshop_page_explains_hybrid_format(client, workshop):
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "2 hours of asynchronous pre-work" in html
    assert "4 hours live on Zoom" in html
    assert "over 2 sessions" in html


def test_workshop_page_lists_outcomes_and_audiences(client, workshop):
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "Understand racial identity development" in html
    assert "School and district leaders" in html


def test_session_time_shown_in_pacific_with_utc_instant_for_local_time(client):
    workshop = WorkshopFactory(with_schedule=False)
    Session.objects.create(
        workshop=workshop, title="Live session 1", starts_at=pacific(2031, 5, 5, 16), ends_at=pacific(2031, 5, 5, 18)
    )
    PriceTier.objects.create(workshop=workshop, min_seats=1, unit_price_cents=12000)
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "Monday, May 5, 2031, 4:00–6:00 PM Pacific Time (PDT)" in html
    # May 5th 4 pm PDT is 23:00 UTC: the browser script converts from this instant.
    assert 'datetime="2031-05-05T23:00:00+00:00"' in html


def test_winter_session_uses_standard_time_offset(client):
    workshop = WorkshopFactory(with_schedule=False)
    Session.objects.create(
        workshop=workshop, title="Winter", starts_at=pacific(2031, 1, 15, 16), ends_at=pacific(2031, 1, 15, 18)
    )
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "4:00–6:00 PM Pacific Time (PST)" in html
    assert 'datetime="2031-01-16T00:00:00+00:00"' in html


def test_seats_left_counts_paid_seats_and_live_holds_only(client, workshop):
    OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000)
    OrderFactory(workshop=workshop, seat_count=3, status=Order.Status.PENDING, paid_at=None)
    OrderFactory(
        workshop=workshop,
        seat_count=4,
        status=Order.Status.PENDING,
        paid_at=None,
        hold_expires_at=timezone.now() - timedelta(seconds=1),
    )
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "32 seats left" in html


def test_sold_out_workshop_says_so(client):
    workshop = WorkshopFactory(capacity=2)
    OrderFactory(workshop=workshop, seat_count=2)
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "Sold out" in html
    assert "Tell me if seats open up" in html


def test_closed_registration_says_so(client):
    workshop = WorkshopFactory(registration_closes_at=timezone.now() - timedelta(days=1))
    html = client.get(workshop.get_absolute_url()).content.decode()
    assert "Registration is closed." in html
    assert "/register/" not in html


def test_unpublished_workshop_is_a_404_in_site_style(client):
    workshop = WorkshopFactory(is_published=False)
    response = client.get(workshop.get_absolute_url())
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_unknown_workshop_is_404(client):
    assert client.get("/workshops/no-such-thing/").status_code == 404


def test_home_features_next_published_workshop(client, workshop):
    WorkshopFactory(title="Hidden draft", is_published=False)
    html = client.get("/").content.decode()
    assert workshop.title in html
    assert "Hidden draft" not in html
    assert workshop.get_absolute_url() in html


def test_healthz_answers_with_database_check(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_workshop_page_query_count_does_not_grow(client, django_assert_max_num_queries):
    workshop = WorkshopFactory()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(workshop.get_absolute_url()).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for n in range(5):
        Session.objects.create(
            workshop=workshop, starts_at=pacific(2040, 6, 1 + n), ends_at=pacific(2040, 6, 1 + n, 18)
        )
        PreworkModule.objects.create(workshop=workshop, title=f"Extra {n}", minutes=10)
        PriceTier.objects.create(workshop=workshop, min_seats=10 + n, unit_price_cents=9000 - n)
        OrderFactory(workshop=workshop, seat_count=1)
    assert count() == before
    # The workshop row, its sessions, price tiers and affinity groups (read again: they changed), its seat counts,
    # the cohort.
    assert before <= 6
