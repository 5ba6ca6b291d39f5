"""An attendee's page: sessions in Pacific time, calendar files, pre-work, live links, privacy."""

import re
import zoneinfo
from datetime import UTC, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from registrations.models import Order, PreworkCompletion, Seat
from tests.factories import OrderFactory, WorkshopFactory, pacific

pytestmark = pytest.mark.django_db

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.fixture
def order(workshop):
    return OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"], buyer_email="maya@lincoln.example")


@pytest.fixture
def ana(order):
    return order.seats.get(position=1)


def page(client, seat) -> str:
    response = client.get(f"/seats/{seat.token}/")
    assert response.status_code == 200
    return response.content.decode()


def sessions(workshop):
    return list(workshop.sessions.order_by("starts_at"))


# --- what the page shows -----------------------------------------------------------------------


def test_page_shows_the_workshop_and_both_sessions_in_pacific_time(client, ana, workshop):
    html = page(client, ana)
    assert workshop.title in html
    for session in sessions(workshop):
        local = session.starts_at.astimezone(PACIFIC)
        assert f"{local:%A, %B} {local.day}, {local.year}, 4:00–6:00 PM {local.tzname()}" in html
        assert f'datetime="{session.starts_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S}+00:00"' in html


def test_page_shows_nothing_about_other_seats_or_access_needs(client, order, ana):
    Seat.objects.filter(pk=ana.pk).update(access_note="Needs a quiet room")
    html = page(client, ana)
    assert "Ana Diaz" in html
    for other in ("Ben Okafor", "ben@school.example", "maya@lincoln.example", order.token, "quiet room", order.reference):
        assert other not in html


@pytest.mark.parametrize("token", ["nope", "B" * 43, "x" * 300, "%00" * 20, "%F0%9F%98%80" * 10])
def test_wrong_or_malformed_token_is_404(client, ana, token):
    assert client.get(f"/seats/{token}/").status_code == 404
    assert client.get(f"/seats/{token}/calendar.ics").status_code == 404


def test_refunded_seat_is_404(client, ana):
    Seat.objects.filter(pk=ana.pk).update(status=Seat.Status.REFUNDED)
    assert client.get(f"/seats/{ana.token}/").status_code == 404
    assert client.get(f"/seats/{ana.token}/calendar.ics").status_code == 404


@pytest.mark.parametrize("status", [Order.Status.EXPIRED, Order.Status.CANCELLED, Order.Status.FAILED, Order.Status.REFUNDED])
def test_seat_of_an_order_that_was_never_paid_or_was_refunded_is_404(client, order, ana, status):
    Order.objects.filter(pk=order.pk).update(status=status)
    assert client.get(f"/seats/{ana.token}/").status_code == 404


def test_seat_page_queries_do_not_grow_with_orders(client, workshop, ana):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            page(client, ana)
        return len(ctx.captured_queries)

    baseline = count()
    OrderFactory.create_batch(15, workshop=workshop, seat_count=3, seats=["Cara Lee", "Dev Patel"])
    for other in Seat.objects.exclude(pk=ana.pk):
        PreworkCompletion.objects.create(seat=other, module=workshop.prework_modules.first())
    assert count() == baseline


# --- live-session links ----------------------------------------------------------------------


def test_meeting_links_appear_only_inside_the_window(client, ana, workshop):
    first, second = sessions(workshop)
    opens = first.starts_at - timedelta(minutes=workshop.session_link_lead_minutes)
    with time_machine.travel(opens - timedelta(minutes=1)):
        html = page(client, ana)
        assert first.meeting_url not in html
        assert "The link to join appears here from" in html
    with time_machine.travel(opens):
        html = page(client, ana)
        assert first.meeting_url in html and second.meeting_url not in html
    with time_machine.travel(first.ends_at - timedelta(seconds=1)):
        assert first.meeting_url in page(client, ana)
    with time_machine.travel(first.ends_at):
        html = page(client, ana)
        assert first.meeting_url not in html
        assert "This session has ended." in html
    with time_machine.travel(second.starts_at):
        html = page(client, ana)
        assert second.meeting_url in html and first.meeting_url not in html


def test_the_link_window_follows_the_workshop_setting(client, ana, workshop):
    workshop.session_link_lead_minutes = 15
    workshop.save()
    first = sessions(workshop)[0]
    with time_machine.travel(first.starts_at - timedelta(minutes=30)):
        assert first.meeting_url not in page(client, ana)
    with time_machine.travel(first.starts_at - timedelta(minutes=15)):
        assert first.meeting_url in page(client, ana)


@pytest.mark.parametrize("status", [Order.Status.PENDING, Order.Status.PROCESSING])
def test_no_meeting_link_until_the_order_is_paid(client, order, ana, workshop, status):
    Order.objects.filter(pk=order.pk).update(status=status, hold_expires_at=sessions(workshop)[0].ends_at)
    first = sessions(workshop)[0]
    with time_machine.travel(first.starts_at):
        html = page(client, ana)
    assert first.meeting_url not in html
    assert "confirmed once the payment" in html


# --- calendar files ----------------------------------------------------------------------------


def events(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    return Calendar.from_ical(response.content).walk("VEVENT")


def test_calendar_for_all_sessions_has_each_session_in_utc(client, ana, workshop):
    found = events(client.get(f"/seats/{ana.token}/calendar.ics"))
    assert [e.decoded("dtstart") for e in found] == [s.starts_at for s in sessions(workshop)]
    assert [e.decoded("dtend") for e in found] == [s.ends_at for s in sessions(workshop)]
    assert all(e.decoded("dtstart").tzinfo is not None and e.decoded("dtstart").utcoffset() == timedelta(0) for e in found)
    content = client.get(f"/seats/{ana.token}/calendar.ics").content.decode()
    assert len(re.findall(r"^DTSTART:\d{8}T\d{6}Z\r$", content, flags=re.M)) == 2  # UTC, no TZID


def test_calendar_for_one_session_has_just_that_session(client, ana, workshop):
    second = sessions(workshop)[1]
    found = events(client.get(f"/seats/{ana.token}/sessions/2/calendar.ics"))
    assert [e.decoded("dtstart") for e in found] == [second.starts_at]


@pytest.mark.parametrize("number", ["0", "3"])
def test_calendar_for_a_session_that_does_not_exist_is_404(client, ana, number):
    assert client.get(f"/seats/{ana.token}/sessions/{number}/calendar.ics").status_code == 404


def test_sessions_either_side_of_the_daylight_saving_change(client):
    # 2027: Pacific clocks go forward on March 14, so 4 pm is 00:00 UTC before and 23:00 UTC after.
    workshop = WorkshopFactory(with_schedule=False)
    for number, day in ((1, 10), (2, 17)):
        workshop.sessions.create(
            title=f"Live session {number}", starts_at=pacific(2027, 3, day, 16), ends_at=pacific(2027, 3, day, 18)
        )
    seat = OrderFactory(workshop=workshop, seats=["Ana Diaz"]).seats.get()
    with time_machine.travel(pacific(2027, 2, 1, 9)):
        html = page(client, seat)
        content = client.get(f"/seats/{seat.token}/calendar.ics").content.decode()
    assert "Wednesday, March 10, 2027, 4:00–6:00 PM PST" in html
    assert "Wednesday, March 17, 2027, 4:00–6:00 PM PDT" in html
    assert "DTSTART:20270311T000000Z" in content and "DTEND:20270311T020000Z" in content
    assert "DTSTART:20270317T230000Z" in content and "DTEND:20270318T010000Z" in content


def test_calendar_uids_are_stable_per_seat_and_session(client, order, ana):
    ben = order.seats.get(position=2)
    first = [str(e["uid"]) for e in events(client.get(f"/seats/{ana.token}/calendar.ics"))]
    again = [str(e["uid"]) for e in events(client.get(f"/seats/{ana.token}/calendar.ics"))]
    single = [str(e["uid"]) for e in events(client.get(f"/seats/{ana.token}/sessions/1/calendar.ics"))]
    other = [str(e["uid"]) for e in events(client.get(f"/seats/{ben.token}/calendar.ics"))]
    assert first == again and len(set(first)) == 2
    assert single == first[:1]
    assert not set(first) & set(other)


def test_calendar_uids_name_no_seat_or_session_number_nor_the_token(client, ana, workshop):
    uids = [str(e["uid"]) for e in events(client.get(f"/seats/{ana.token}/calendar.ics"))]
    assert len(uids) == len(sessions(workshop)) == 2
    for uid in uids:
        local, _host = uid.split("@")
        assert re.fullmatch(r"[0-9a-f]{32}", local), uid  # a digest, not "seat-12-session-3"
        assert ana.token not in uid


def test_a_seat_given_to_someone_else_gets_new_calendar_uids(client, order, ana):
    before = [str(e["uid"]) for e in events(client.get(f"/seats/{ana.token}/calendar.ics"))]
    client.post(
        f"/orders/{order.token}/seats/1/",
        {"seat-1-name": "Dana Reyes", "seat-1-email": "dana@lincoln.example", "seat-1-change": "new_person"},
    )
    seat = Seat.objects.get(pk=ana.pk)
    assert seat.token != ana.token
    after = [str(e["uid"]) for e in events(client.get(f"/seats/{seat.token}/calendar.ics"))]
    assert len(set(after)) == 2 and not set(before) & set(after)


def test_calendar_never_carries_the_meeting_link(client, ana, workshop):
    first = sessions(workshop)[0]
    with time_machine.travel(first.starts_at):
        content = client.get(f"/seats/{ana.token}/calendar.ics").content.decode()
    assert "zoom.example" not in content
    assert f"/seats/{ana.token}/" in content.replace("\r\n ", "")


# --- pre-work --------------------------------------------------------------------------------


def mark(client, seat, module, done: str):
    return client.post(f"/seats/{seat.token}/prework/{module.pk}/", {"done": done})


def test_checklist_shows_each_module_and_progress_in_minutes(client, ana, workshop):
    workshop.prework_modules.filter(position=1).update(url="https://reading.example/framework", body="Read the summary.")
    module = workshop.prework_modules.get(position=1)
    html = page(client, ana)
    assert "Framework reading" in html and "Case studies" in html
    assert f'href="/seats/{ana.token}/prework/{module.pk}/" data-open-module>Open “Framework reading”</a>' in html
    assert "Read the summary." in html
    assert "0 of 120 minutes done" in html
    opened = client.get(f"/seats/{ana.token}/prework/{module.pk}/").content.decode()
    assert 'href="https://reading.example/framework"' in opened and "Mark “Framework reading” as done" in opened


def test_marking_a_module_done_and_undoing_it(client, ana, workshop):
    module = workshop.prework_modules.get(position=1)
    response = mark(client, ana, module, "1")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#module-{module.pk}")
    assert "60 of 120 minutes done" in page(client, ana)
    mark(client, ana, module, "1")  # a double click changes nothing
    assert PreworkCompletion.objects.filter(seat=ana).count() == 1
    mark(client, ana, module, "0")
    assert "0 of 120 minutes done" in page(client, ana)
    assert not PreworkCompletion.objects.filter(seat=ana).exists()


def test_marking_a_module_done_says_so_in_its_own_card(client, ana, workshop):
    module = workshop.prework_modules.get(position=1)
    mark(client, ana, module, "1")
    card = page(client, ana).split(f'id="module-{module.pk}"')[1].split("</li>")[0]
    assert f"“{module.title}” is marked as done." in card
    mark(client, ana, module, "0")
    card = page(client, ana).split(f'id="module-{module.pk}"')[1].split("</li>")[0]
    assert f"“{module.title}” is no longer marked as done." in card


def test_finishing_all_modules_shows_the_full_total(client, ana, workshop):
    for module in workshop.prework_modules.all():
        mark(client, ana, module, "1")
    assert "120 of 120 minutes done" in page(client, ana)


def test_a_module_of_another_workshop_is_404(client, ana):
    other = WorkshopFactory().prework_modules.first()
    assert mark(client, ana, other, "1").status_code == 404
    assert not PreworkCompletion.objects.exists()


def test_garbage_in_the_mark_form_is_a_400_not_a_500(client, ana, workshop):
    module = workshop.prework_modules.first()
    assert mark(client, ana, module, "maybe").status_code == 400
    assert client.post(f"/seats/{ana.token}/prework/{module.pk}/", {}).status_code == 400
    assert not PreworkCompletion.objects.exists()


def test_prework_cannot_be_marked_on_an_unpaid_order(client, order, ana, workshop):
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PENDING)
    response = mark(client, ana, workshop.prework_modules.first(), "1")
    assert response.status_code == 302
    assert "Pre-work opens once the order is paid." in client.get(response["Location"]).content.decode()
    assert not PreworkCompletion.objects.exists()


def test_mark_form_needs_the_csrf_token(ana, workshop):
    response = mark(Client(enforce_csrf_checks=True), ana, workshop.prework_modules.first(), "1")
    assert response.status_code == 403
    assert not PreworkCompletion.objects.exists()


@pytest.mark.parametrize("module_id", ["0", "99999999999999999999"])
def test_a_module_that_does_not_exist_is_404(client, ana, module_id):
    assert client.post(f"/seats/{ana.token}/prework/{module_id}/", {"done": "1"}).status_code == 404


def test_calendar_for_an_absurd_session_number_is_404(client, ana):
    assert client.get(f"/seats/{ana.token}/sessions/99999999999999999999/calendar.ics").status_code == 404
