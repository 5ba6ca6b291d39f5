"""Forms staff can fill: money in dollars (stored in cents), a list of time zones, times in the workshop's zone."""

import csv
import io
import zoneinfo
from datetime import datetime

import pytest

from registrations.models import Voucher
from tests.cohorts.factories import CohortFactory
from tests.factories import WorkshopFactory
from tests.staff.helpers import form_data
from workshops.models import Session

pytestmark = pytest.mark.django_db

UTC = zoneinfo.ZoneInfo("UTC")


def edit_workshop(client, workshop, **changes):
    # Admin refuses a pre-work module with nothing to open; the factory's modules have only a title.
    workshop.prework_modules.update(url="https://example.org/reading")
    url = f"/admin/workshops/workshop/{workshop.pk}/change/"
    return client.post(url, form_data(client.get(url), **changes))


def tier_fields(workshop) -> dict[int, str]:
    """min seats -> the form prefix of that price tier's row."""
    return {t.min_seats: f"price_tiers-{i}" for i, t in enumerate(workshop.price_tiers.order_by("pk"))}


def test_prices_are_shown_in_dollars_with_a_dollar_sign(staff_client, workshop):
    html = staff_client.get(f"/admin/workshops/workshop/{workshop.pk}/change/").content.decode()
    assert 'value="120.00"' in html and 'value="100.00"' in html
    assert '<span class="dollars-sign" aria-hidden="true">$</span>' in html
    assert "12000" not in html


@pytest.mark.parametrize("typed, cents", [("135", 13500), ("$1,250.50", 125050), ("99.5", 9950), (" 0 ", 0)])
def test_a_price_typed_in_dollars_is_stored_in_cents(staff_client, workshop, typed, cents):
    prefix = tier_fields(workshop)[1]
    response = edit_workshop(staff_client, workshop, **{f"{prefix}-unit_price_cents": typed})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert workshop.price_tiers.get(min_seats=1).unit_price_cents == cents


@pytest.mark.parametrize("typed", ["12.345", "ten dollars", "-5", "1.2.3"])
def test_a_price_that_is_not_dollars_is_refused_beside_the_field_and_kept(staff_client, workshop, typed):
    prefix = tier_fields(workshop)[1]
    response = edit_workshop(staff_client, workshop, **{f"{prefix}-unit_price_cents": typed})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter an amount in dollars, such as 120 or 99.50." in html
    assert f'value="{typed}"' in html
    assert workshop.price_tiers.get(min_seats=1).unit_price_cents == 12000


def test_a_price_typed_in_cents_by_habit_is_refused_with_the_reason(staff_client, workshop):
    prefix = tier_fields(workshop)[1]
    response = edit_workshop(staff_client, workshop, **{f"{prefix}-unit_price_cents": "12000"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "That is $12,000.00. Amounts are typed in dollars (120 for $120.00), not in cents" in html
    assert 'value="12000"' in html
    assert workshop.price_tiers.get(min_seats=1).unit_price_cents == 12000


def test_a_fixed_amount_code_is_typed_in_dollars(staff_client):
    response = staff_client.post("/admin/registrations/voucher/add/", {
        "code": "district50", "label": "District", "kind": "fixed", "amount_off_cents": "$50", "applies_to": "seat",
        "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    voucher = Voucher.objects.get(code="DISTRICT50")
    assert voucher.amount_off_cents == 5000
    html = staff_client.get(f"/admin/registrations/voucher/{voucher.pk}/change/").content.decode()
    assert 'value="50.00"' in html


def test_a_fixed_amount_code_without_an_amount_says_so_in_dollars(staff_client):
    response = staff_client.post("/admin/registrations/voucher/add/", {
        "code": "EMPTY", "kind": "fixed", "amount_off_cents": "", "applies_to": "seat", "is_active": "on",
    })
    assert "Give the amount off, in dollars." in response.content.decode()
    assert not Voucher.objects.exists()


def test_the_course_price_is_typed_in_dollars(staff_client):
    cohort = CohortFactory(price_cents=None)
    url = f"/admin/cohorts/cohort/{cohort.pk}/change/"
    response = staff_client.post(url, form_data(staff_client.get(url), price_cents="1,800"))
    assert response.status_code == 302, response.content.decode()[:3000]
    cohort.refresh_from_db()
    assert cohort.price_cents == 180000


def test_the_time_zone_is_chosen_from_real_zones(staff_client, workshop):
    html = staff_client.get(f"/admin/workshops/workshop/{workshop.pk}/change/").content.decode()
    assert '<select name="time_zone"' in html
    assert '<option value="America/Los_Angeles" selected>Pacific Time (America/Los Angeles)</option>' in html
    assert '<option value="Europe/London">Europe/London</option>' in html
    response = edit_workshop(staff_client, workshop, time_zone="Pacific Standard")
    assert "Select a valid choice." in response.content.decode()
    assert edit_workshop(staff_client, workshop, time_zone="America/New_York").status_code == 302
    workshop.refresh_from_db()
    assert workshop.time_zone == "America/New_York"


def test_session_times_are_typed_in_the_workshops_zone(staff_client, workshop):
    session = workshop.sessions.order_by("starts_at").first()
    index = list(workshop.sessions.order_by("pk")).index(session)
    response = edit_workshop(staff_client, workshop, **{
        f"sessions-{index}-starts_at": "2031-05-06T16:30", f"sessions-{index}-ends_at": "2031-05-06T18:30",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    session.refresh_from_db()
    assert session.starts_at == datetime(2031, 5, 6, 23, 30, tzinfo=UTC)  # 4:30 pm PDT


def test_a_workshop_in_another_zone_is_edited_in_that_zone(staff_client):
    workshop = WorkshopFactory(time_zone="America/New_York")
    html = staff_client.get(f"/admin/workshops/workshop/{workshop.pk}/change/").content.decode()
    assert html.count("Times on this page are Eastern Time (America/New_York)") == 1
    session = Session.objects.filter(workshop=workshop).order_by("starts_at").first()
    local = session.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in html and f"{local:%Z}</span>" in html


def test_the_code_batch_form_takes_dollars_and_pacific_time(staff_client):
    response = staff_client.post("/admin/registrations/voucher/generate/", {
        "count": "2", "prefix": "GIFT", "label": "Gift", "kind": "fixed", "amount_off_cents": "25",
        "applies_to": "seat", "valid_until": "2031-06-01T23:59",
    })
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    codes = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(codes) == 2
    voucher = Voucher.objects.get(code=codes[0]["Code"])
    assert voucher.amount_off_cents == 2500
    assert voucher.valid_until == datetime(2031, 6, 2, 6, 59, tzinfo=UTC)  # 11:59 pm PDT


@pytest.mark.parametrize(
    "url",
    [
        "/admin/workshops/workshop/add/",
        "/admin/workshops/session/add/",
        "/admin/registrations/voucher/add/",
        "/admin/registrations/voucher/generate/",
        "/admin/cohorts/cohort/add/",
        "/admin/cohorts/cohorttouchpoint/add/",
        "/admin/auth/user/{user}/change/",
        "/admin/registrations/seatalert/{alert}/change/",
    ],
)
def test_no_page_repeats_a_server_time_warning(staff_client, django_user_model, workshop, url):
    from registrations.models import SeatAlert

    alert = SeatAlert.objects.create(workshop=workshop, email="a@x.example")
    url = url.format(user=django_user_model.objects.get(username="staff").pk, alert=alert.pk)
    html = staff_client.get(url).content.decode()
    # Django's calendar script adds "You are N hours ahead of server time" beside every date and time box.
    assert "DateTimeShortcuts.js" not in html
    assert html.count('class="zone-note"') <= 1
