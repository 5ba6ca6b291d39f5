"""Hostile review of the staff admin (issue 17): addresses and parameters staff can type, the roster CSV for
workshops with other than two sessions, the finance CSV's queries with seats added later, and the sections a
Coordinator sees."""

import csv
import io
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations.models import Order, Payment
from workshops.models import Session
from tests.factories import OrderFactory, WorkshopFactory, record_refund
from tests.staff.helpers import form_data

pytestmark = pytest.mark.django_db

ROSTER = "/admin/registrations/rosterseat/"
FINANCE = "/admin/registrations/payment/finance/"
UTC = zoneinfo.ZoneInfo("UTC")


def table(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("url", [
    "/admin/workshops/workshop/abc/change/",
    "/admin/workshops/session/abc/change/",
    "/admin/registrations/order/abc/change/",
    "/admin/registrations/voucher/abc/change/",
    "/admin/cohorts/cohort/abc/change/",
    "/admin/cohorts/cohorttouchpoint/abc/change/",
])
def test_a_change_page_for_an_id_that_is_not_a_number_says_it_does_not_exist(staff_client, url):
    response = staff_client.get(url)
    assert response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.parametrize("workshop_id", ["²", "99999999999999999999"])
def test_the_roster_filtered_by_an_impossible_workshop_id_is_not_a_500(staff_client, workshop_id):
    OrderFactory(seat_count=1)
    assert staff_client.get(ROSTER, {"order__workshop__id__exact": workshop_id}).status_code in (200, 302)


def test_a_finance_csv_up_to_the_last_day_a_calendar_has_is_not_a_500(staff_client):
    order = OrderFactory(seat_count=1)
    exported = table(staff_client.get(FINANCE, {"download": 1, "until": "9999-12-31"}))
    assert [row[5] for row in exported[1:]] == [order.reference]


def roster_csv(client, workshop) -> list[list[str]]:
    seats = [seat.pk for order in workshop.orders.all() for seat in order.seats.all()]
    return table(client.post(f"{ROSTER}?order__workshop__id__exact={workshop.pk}",
                             {"action": "export_csv", "_selected_action": seats}))


def test_the_roster_csv_of_a_one_session_workshop_has_one_attendance_column(staff_client):
    workshop = WorkshopFactory()
    workshop.sessions.order_by("-starts_at").first().delete()
    OrderFactory(workshop=workshop, seat_count=1, seats=["Ann Lee"])
    header, row = roster_csv(staff_client, workshop)
    assert [h for h in header if h.startswith("Attended")] == ["Attended session 1"]
    assert row[header.index("Attended session 1")] == "no"


def test_the_roster_csv_has_a_column_for_every_session(staff_client):
    workshop = WorkshopFactory()
    last = workshop.sessions.order_by("-starts_at").first()
    third = Session.objects.create(workshop=workshop, title="Live session 3", starts_at=last.starts_at + timedelta(days=7),
                                   ends_at=last.ends_at + timedelta(days=7))
    order = OrderFactory(workshop=workshop, seat_count=1, seats=["Ann Lee"])
    order.seats.get().attendances.create(session=third)
    header, row = roster_csv(staff_client, workshop)
    assert [h for h in header if h.startswith("Attended")] == [f"Attended session {n}" for n in (1, 2, 3)]
    assert row[header.index("Attended session 3")] == "yes"


def _team_with_added_seats(workshop) -> None:
    order = OrderFactory(workshop=workshop, seat_count=3)
    addition = OrderFactory(workshop=workshop, seat_count=2, kind=Order.Kind.ADDITION, parent=order,
                            status=Order.Status.MERGED, total_cents=14000, payment=False)
    Payment.objects.create(order=addition, amount_cents=14000, currency="usd", source=Payment.Source.CHECKOUT,
                           received_at=timezone.now(), stripe_payment_intent_id=f"pi_added_{addition.pk}")
    record_refund(order, 100)


def test_the_finance_csv_takes_the_same_queries_however_many_seats_were_added_later(staff_client):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            table(staff_client.get(FINANCE, {"download": 1}))
        return len(ctx)

    _team_with_added_seats(WorkshopFactory())
    before = count()
    for _ in range(4):
        _team_with_added_seats(WorkshopFactory())
    assert count() == before


def test_a_session_added_to_a_workshop_in_another_zone_is_typed_in_that_zone(staff_client):
    workshop = WorkshopFactory(time_zone="America/New_York")
    page = staff_client.get("/admin/workshops/session/add/", {"workshop": workshop.pk}).content.decode()
    assert "Times on this page are Eastern Time (America/New_York)" in page
    response = staff_client.post("/admin/workshops/session/add/", {
        "workshop": workshop.pk, "title": "Extra session", "starts_at": "2031-05-06T10:00", "ends_at": "2031-05-06T12:00",
    })
    assert response.status_code == 302
    assert Session.objects.get(title="Extra session").starts_at == datetime(2031, 5, 6, 14, 0, tzinfo=UTC)  # 10 am EDT


def test_a_new_workshop_in_another_zone_has_its_sessions_typed_in_that_zone(staff_client):
    data = form_data(staff_client.get("/admin/workshops/workshop/add/"), **{
        "title": "East coast workshop", "slug": "east-coast", "summary": "s", "description": "d", "outcomes": "o",
        "audiences": "a", "time_zone": "America/New_York", "capacity": "30",
        "sessions-TOTAL_FORMS": "1", "sessions-0-title": "Live session 1",
        "sessions-0-starts_at": "2031-05-06T10:00", "sessions-0-ends_at": "2031-05-06T12:00",
        "price_tiers-TOTAL_FORMS": "1", "price_tiers-0-min_seats": "1", "price_tiers-0-unit_price_cents": "120",
    })
    response = staff_client.post("/admin/workshops/workshop/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Session.objects.get(workshop__slug="east-coast").starts_at == datetime(2031, 5, 6, 14, 0, tzinfo=UTC)
