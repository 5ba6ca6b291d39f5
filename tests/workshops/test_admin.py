import pytest

from django.utils import timezone

from tests.factories import PACIFIC, WorkshopFactory
from workshops.models import Workshop

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/admin/workshops/workshop/",
    "/admin/workshops/workshop/add/",
    "/admin/workshops/session/",
    "/admin/workshops/preworkmodule/",
    "/admin/workshops/pricetier/",
    "/admin/registrations/order/",
    "/admin/registrations/seat/",
    "/admin/registrations/stripeevent/",
    "/admin/registrations/refund/",
    "/admin/registrations/seatalert/",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_load_for_staff(staff_client, url):
    WorkshopFactory()
    response = staff_client.get(url)
    assert response.status_code == 200
    assert b"Staff admin" in response.content or b"Equity School Leadership" in response.content


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_refuse_anonymous_users(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_workshop_admin_search_finds_by_title(staff_client):
    WorkshopFactory(title="Affinity basics")
    WorkshopFactory(title="Something else")
    response = staff_client.get("/admin/workshops/workshop/?q=basics")
    assert b"Affinity basics" in response.content
    assert b"Something else" not in response.content


def test_workshop_change_page_shows_session_times_in_pacific(staff_client):
    workshop = WorkshopFactory()
    session = workshop.sessions.order_by("starts_at").first()
    response = staff_client.get(f"/admin/workshops/workshop/{workshop.pk}/change/")
    assert response.status_code == 200
    # Inputs show 16:00 local time, not the 23:00/00:00 UTC instant, labelled with the zone.
    local = timezone.localtime(session.starts_at, PACIFIC)
    assert f'value="{local:%Y-%m-%d}T16:00"'.encode() in response.content
    assert session.starts_at.hour in (23, 0)
    html = response.content.decode()
    assert f"{local:%Z}</span>" in html
    # One note about time zones for the whole page, not a warning beside every field.
    assert html.count("Times on this page are Pacific Time (America/Los_Angeles)") == 1
    assert "DateTimeShortcuts.js" not in html


def test_duplicate_action_copies_one_year_later_unpublished(staff_client):
    workshop = WorkshopFactory()
    response = staff_client.post(
        "/admin/workshops/workshop/",
        {"action": "duplicate_for_next_year", "_selected_action": [workshop.pk]},
        follow=True,
    )
    assert response.status_code == 200
    copy = Workshop.objects.exclude(pk=workshop.pk).get()
    assert copy.is_published is False
    assert copy.sessions.count() == 2 and copy.price_tiers.count() == 2 and copy.prework_modules.count() == 2
    original = workshop.sessions.order_by("starts_at").first()
    copied = copy.sessions.order_by("starts_at").first()
    from django.utils import timezone

    o, c = timezone.localtime(original.starts_at, workshop.tz), timezone.localtime(copied.starts_at, workshop.tz)
    assert (c.year, c.month, c.day, c.hour) == (o.year + 1, o.month, o.day, 16)


def _workshop_form(workshop, tiers):
    data = {
        "title": workshop.title, "slug": workshop.slug, "summary": "s", "description": "", "outcomes": "",
        "audiences": "", "prework_hours": 2, "live_hours": 4, "platform": "Zoom", "time_zone": "America/Los_Angeles",
        "capacity": 10, "seat_changes_close_hours": 24, "session_link_lead_minutes": 60, "is_published": "on",
        "sessions-TOTAL_FORMS": 0, "sessions-INITIAL_FORMS": 0,
        "prework_modules-TOTAL_FORMS": 0, "prework_modules-INITIAL_FORMS": 0,
        "price_tiers-TOTAL_FORMS": len(tiers), "price_tiers-INITIAL_FORMS": 0,
    }
    for i, (min_seats, cents) in enumerate(tiers):
        data[f"price_tiers-{i}-min_seats"] = min_seats
        data[f"price_tiers-{i}-unit_price_cents"] = cents
    return data


def test_admin_refuses_price_tiers_without_a_single_seat_tier(staff_client):
    workshop = WorkshopFactory.build(slug="new-one")
    response = staff_client.post("/admin/workshops/workshop/add/", _workshop_form(workshop, [(5, 10000)]))
    assert response.status_code == 200
    assert b"One price tier must start at 1 seat" in response.content
    assert not Workshop.objects.filter(slug="new-one").exists()


def test_admin_refuses_duplicate_tier_minimums(staff_client):
    workshop = WorkshopFactory.build(slug="new-two")
    response = staff_client.post("/admin/workshops/workshop/add/", _workshop_form(workshop, [(1, 12000), (1, 11000)]))
    assert b"duplicate data for min_seats" in response.content or b"different minimum seat count" in response.content
    assert not Workshop.objects.filter(slug="new-two").exists()
