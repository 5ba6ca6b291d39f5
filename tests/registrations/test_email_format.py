"""Every email: HTML with a plain-text alternative saying the same, the organisation's name as sender,
a contact address and the lost-links page in the footer, times with a readable zone and the reader's own."""

import zoneinfo
from datetime import datetime

import pytest
from django.core import mail

from registrations.emails import send_order_confirmation
from registrations.email_layout import text_to_html_blocks
from tests.factories import OrderFactory
from workshops.models import Session
from workshops.schedule import schedule_summary, session_when, zone_label

pytestmark = pytest.mark.django_db
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.fixture
def confirmation(workshop, settings, django_capture_on_commit_callbacks):
    settings.DEFAULT_FROM_EMAIL = "bounce@mail.equity.example"
    settings.CONTACT_EMAIL = "help@equity.example"
    order = OrderFactory(workshop=workshop, seat_count=1, seats=["Maya Johnson"], buyer_email="maya@school.example",
                         time_zone="America/New_York")
    with django_capture_on_commit_callbacks(execute=True):
        send_order_confirmation(order=order)
    return order, mail.outbox[0]


def test_emails_come_from_the_organisation_and_replies_go_to_the_contact_address(confirmation):
    _, message = confirmation
    assert message.from_email == "Equity School Leadership <bounce@mail.equity.example>"
    assert message.reply_to == ["help@equity.example"]


def test_both_parts_carry_the_contact_address_and_the_lost_links_page(confirmation):
    _, message = confirmation
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    for part in (message.body, html):
        assert "help@equity.example" in part
        assert "http://testserver/links/" in part


def test_the_html_part_says_what_the_text_says(confirmation):
    order, message = confirmation
    html = message.alternatives[0][0]
    assert f'<a href="http://testserver/orders/{order.token}/"' in html
    assert order.reference in html and "Thank you: your registration for" in html
    assert "<ul" in html and "Live sessions on Zoom:" in html


def test_times_read_with_a_zone_name_and_the_readers_own_time(confirmation, workshop):
    _, message = confirmation
    first = workshop.sessions.order_by("starts_at").first()
    local = first.starts_at.astimezone(PACIFIC)
    assert f"4:00–6:00 PM Pacific Time ({local.tzname()}) (for you: 7:00–9:00 PM Eastern Time (E" in message.body
    assert "America/Los_Angeles" not in message.body


def test_the_html_escapes_what_people_typed():
    blocks = text_to_html_blocks("Hello <script>alert(1)</script>,\n\n- see https://x.example/a?b=1&c=2.")
    assert "<script>" not in "".join(blocks)
    assert '<a href="https://x.example/a?b=1&amp;c=2"' in blocks[1]


def test_a_session_crossing_midnight_for_the_reader_names_their_day():
    session = Session(starts_at=datetime(2027, 5, 5, 16, tzinfo=PACIFIC), ends_at=datetime(2027, 5, 5, 18, tzinfo=PACIFIC))
    text = session_when(session, "America/Los_Angeles", "Asia/Tokyo")
    assert text.startswith("Wednesday, May 5, 2027, 4:00–6:00 PM Pacific Time (PDT)")
    assert text.endswith("(for you: Thursday, May 6, 8:00–10:00 AM Tokyo time (JST))")


def test_no_second_time_when_the_reader_is_in_the_workshops_zone():
    session = Session(starts_at=datetime(2027, 5, 5, 16, tzinfo=PACIFIC), ends_at=datetime(2027, 5, 5, 18, tzinfo=PACIFIC))
    assert "for you" not in session_when(session, "America/Los_Angeles", "America/Vancouver")
    assert "for you" not in session_when(session, "America/Los_Angeles", "Not/AZone")


def test_the_schedule_names_both_days_once_with_their_shared_hours():
    sessions = [
        Session(starts_at=datetime(2027, 5, d, 16, tzinfo=PACIFIC), ends_at=datetime(2027, 5, d, 18, tzinfo=PACIFIC))
        for d in (5, 19)
    ]
    assert schedule_summary(sessions, "America/Los_Angeles", "Zoom") == (
        "Live on Zoom: Wednesday, May 5 and Wednesday, May 19, 2027, 4:00–6:00 PM Pacific Time (PDT)"
    )


def test_a_daylight_saving_change_between_sessions_shows_each_zone():
    sessions = [
        Session(starts_at=datetime(2027, 10, 27, 16, tzinfo=PACIFIC), ends_at=datetime(2027, 10, 27, 18, tzinfo=PACIFIC)),
        Session(starts_at=datetime(2027, 11, 10, 16, tzinfo=PACIFIC), ends_at=datetime(2027, 11, 10, 18, tzinfo=PACIFIC)),
    ]
    text = schedule_summary(sessions, "America/Los_Angeles", "Zoom")
    assert "Pacific Time (PDT)" in text and "Pacific Time (PST)" in text


def test_zone_labels_are_readable():
    moment = datetime(2027, 1, 5, 12, tzinfo=PACIFIC)
    assert zone_label("America/Chicago", moment) == "Central Time (CST)"
    assert zone_label("Europe/Berlin", moment) == "Berlin time (CET)"


def test_every_kind_of_email_has_both_parts_the_sender_name_and_the_contact_address(
    client, workshop, settings, django_capture_on_commit_callbacks
):
    settings.DEFAULT_FROM_EMAIL = "bounce@mail.equity.example"
    settings.CONTACT_EMAIL = "help@equity.example"
    order = OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz"], buyer_email="maya@school.example")
    with django_capture_on_commit_callbacks(execute=True):
        send_order_confirmation(order=order)
        client.post(  # a welcome to the new attendee, and a note to the one who had the seat
            f"/orders/{order.token}/seats/1/",
            {"seat-1-name": "Dana Reyes", "seat-1-email": "dana@lincoln.example", "seat-1-change": "new_person"},
        )
        client.post("/links/", {"email": "maya@school.example"})
    subjects = {m.subject for m in mail.outbox}
    assert len(subjects) >= 4, subjects
    for message in mail.outbox:
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html", message.subject
        assert message.from_email == "Equity School Leadership <bounce@mail.equity.example>", message.subject
        for part in (message.body, html):
            assert "help@equity.example" in part, message.subject
