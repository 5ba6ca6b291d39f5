"""An attendee chooses their own time zone on their seat page; the page and the emails to them then show
their time beside the workshop's Pacific time."""

import zoneinfo
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client

from registrations.models import Seat
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.fixture
def order(workshop):
    return OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"], buyer_email="maya@lincoln.example")


@pytest.fixture
def ana(order):
    return order.seats.get(position=1)


def choose(client, seat, zone: str):
    return client.post(f"/seats/{seat.token}/time-zone/", {"time_zone": zone})


def first_session(workshop):
    return workshop.sessions.order_by("starts_at").first()


def test_the_seat_page_offers_common_zones_first_then_every_zone(client, ana):
    html = client.get(f"/seats/{ana.token}/").content.decode()
    form = html[html.index('id="time-zone"'):]
    assert '<label class="form-label fw-semibold" for="id_time_zone">Your time zone</label>' in form
    assert 'name="csrfmiddlewaretoken"' in form
    common, every = form.index('<optgroup label="Common time zones">'), form.index('<optgroup label="All time zones">')
    assert common < form.index('value="America/New_York"') < every < form.index('value="Asia/Kolkata"')
    assert '<option value="" selected>Not set: show Pacific Time only</option>' in form


def test_choosing_a_zone_stores_it_on_the_seat_and_says_so(client, ana):
    response = choose(client, ana, "America/New_York")
    assert response.status_code == 302
    assert response["Location"] == f"/seats/{ana.token}/#time-zone"
    ana.refresh_from_db()
    assert ana.time_zone == "America/New_York"
    html = client.get(response["Location"]).content.decode()
    assert "Saved: your time zone is Eastern Time." in html
    assert '<option value="America/New_York" selected>' in html


def test_the_page_then_shows_each_session_in_the_attendees_time(client, ana, workshop):
    choose(client, ana, "America/New_York")
    html = client.get(f"/seats/{ana.token}/").content.decode()
    for session in workshop.sessions.all():
        local = session.starts_at.astimezone(PACIFIC)
        eastern = session.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
        assert f"{local:%A, %B} {local.day}, {local.year}, 4:00–6:00 PM {local.tzname()}" in html
        assert f"Your time: 7:00–9:00 PM Eastern Time ({eastern.tzname()})" in html
    # The browser's guess is no longer needed once the attendee has said where they are.
    assert 'data-local="local-seat-' not in html


def test_a_zone_on_another_day_names_the_attendees_day(client, ana, workshop):
    choose(client, ana, "Asia/Tokyo")
    html = client.get(f"/seats/{ana.token}/").content.decode()
    tokyo = first_session(workshop).starts_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert tokyo.date() > first_session(workshop).starts_at.astimezone(PACIFIC).date()
    assert f"Your time: {tokyo:%A, %B} {tokyo.day}, {tokyo.hour}:00–{tokyo.hour + 2}:00 AM Tokyo time (JST)" in html


def test_an_unknown_zone_is_refused_next_to_the_field_and_nothing_changes(client, ana):
    response = choose(client, ana, "Mars/Olympus_Mons")
    assert response.status_code == 400
    html = response.content.decode()
    error = html.index('id="time-zone-error"')
    assert html.index('id="id_time_zone"') < error < html.index("Save time zone")
    assert "That is not a time zone we know. Choose yours from the list." in html and "Olympus" not in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="time-zone-error time-zone-help"' in html
    ana.refresh_from_db()
    assert ana.time_zone == ""


def test_not_set_clears_the_zone(client, ana):
    choose(client, ana, "Europe/Berlin")
    response = choose(client, ana, "")
    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.time_zone == ""


def test_the_form_needs_the_csrf_token(ana):
    response = Client(enforce_csrf_checks=True).post(f"/seats/{ana.token}/time-zone/", {"time_zone": "America/Chicago"})
    assert response.status_code == 403
    ana.refresh_from_db()
    assert ana.time_zone == ""


def test_an_old_link_cannot_set_a_zone(client, ana):
    response = client.post("/seats/not-a-real-token-at-all/time-zone/", {"time_zone": "America/Chicago"})
    assert response.status_code == 404


def test_reminders_to_the_attendee_show_their_own_time(client, ana, order, workshop, django_capture_on_commit_callbacks):
    choose(client, ana, "America/New_York")
    session = first_session(workshop)
    with time_machine.travel(session.starts_at - timedelta(hours=2)), django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", stdout=StringIO())
    eastern = session.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    pacific = session.starts_at.astimezone(PACIFIC)
    (to_ana,) = [m for m in mail.outbox if m.to == ["ana@school.example"] and m.subject.startswith("Reminder")]
    (to_ben,) = [m for m in mail.outbox if m.to == ["ben@school.example"] and m.subject.startswith("Reminder")]
    expected = f"4:00–6:00 PM Pacific Time ({pacific.tzname()}) (for you: 7:00–9:00 PM Eastern Time ({eastern.tzname()}))"
    for part in (to_ana.body, to_ana.alternatives[0][0]):
        assert expected in part
    assert "for you" not in to_ben.body


def test_a_seat_given_to_someone_else_forgets_the_previous_attendees_zone(client, ana, order):
    choose(client, ana, "Asia/Tokyo")
    client.post(
        f"/orders/{order.token}/seats/1/",
        {"seat-1-name": "Dana Reyes", "seat-1-email": "dana@lincoln.example", "seat-1-change": "new_person"},
    )
    seat = Seat.objects.get(pk=ana.pk)
    assert seat.attendee_email == "dana@lincoln.example"
    assert seat.time_zone == ""



def test_the_hour_the_join_link_opens_is_also_given_in_the_attendees_time(client, ana, workshop):
    choose(client, ana, "America/New_York")
    html = client.get(f"/seats/{ana.token}/").content.decode()
    opens = first_session(workshop).starts_at - timedelta(minutes=workshop.session_link_lead_minutes)
    eastern = opens.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f'<span data-own-link-time>({eastern:%-I:%M %p} {eastern.tzname()} your time)</span>' in html
