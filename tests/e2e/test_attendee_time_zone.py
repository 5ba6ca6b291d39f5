"""On a 375px phone, with the keyboard: an attendee chooses their time zone on their seat page (their browser's
is offered first), sees each session in their own time, gets a clear message beside the field when the zone
is refused, and their reminder email shows their time beside Pacific time. Screenshots for the README tour."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from registrations.models import Seat
from tests.e2e.conftest import PHONE, _new_page
from tests.e2e.helpers import audit, expect, phone_layout_problems, screenshot
from tests.e2e.pages import paid_team_order
from tests.e2e.test_buyer_trust import tour

pytestmark = pytest.mark.e2e


@pytest.fixture
def chicago_phone(browser, site):
    """A phone whose clock is in Chicago, as an attendee's in Illinois would be."""
    context, page = _new_page(browser, site, viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="America/Chicago")
    yield page
    context.close()
    assert not page.page_errors, "\n".join(page.page_errors)


def test_an_attendee_sets_their_time_zone_with_the_keyboard_on_a_phone(chicago_phone, axe_source):
    page = chicago_phone
    seat = paid_team_order().seats.get(position=2)
    page.goto(seat.get_absolute_url())
    select = page.get_by_label("Your time zone")
    # Nothing saved yet: the browser's zone is offered, and the page says it is only a suggestion.
    expect(select).to_have_value("America/Chicago")
    expect(page.get_by_text("We picked the one your browser uses")).to_be_visible()
    assert Seat.objects.get(pk=seat.pk).time_zone == ""
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "time zone not set")

    select.focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save time zone")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Saved: your time zone is Central Time.")).to_be_visible()
    assert Seat.objects.get(pk=seat.pk).time_zone == "America/Chicago"
    own = page.locator("[data-own-time]")
    expect(own).to_have_count(2)
    expect(own.first).to_contain_text("Your time: 6:00–8:00 PM Central Time (C")
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "time zone saved")
    page.locator("#sessions-heading").scroll_into_view_if_needed()
    screenshot(page, "attendee-time-zone-phone")


def test_a_refused_zone_is_explained_beside_the_field(chicago_phone, axe_source):
    page = chicago_phone
    seat = paid_team_order().seats.get(position=2)
    page.goto(seat.get_absolute_url())
    # A value the list does not offer (an old page, a hand-made request) comes back with the reason beside the field.
    page.evaluate("""() => { const s = document.querySelector('#id_time_zone');
        s.add(new Option('Mars', 'Mars/Olympus_Mons')); s.value = 'Mars/Olympus_Mons'; }""")
    page.get_by_role("button", name="Save time zone").click()
    error = page.locator("#time-zone-error")
    expect(error).to_have_text("That is not a time zone we know. Choose yours from the list.")
    expect(page.get_by_label("Your time zone")).to_have_attribute("aria-invalid", "true")
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "time zone refused")
    assert Seat.objects.get(pk=seat.pk).time_zone == ""


def test_the_reminder_email_shows_the_attendees_own_time(chicago_phone, settings):
    settings.SITE_URL = "https://workshops.example.org"  # the reminder is sent outside a request, as in production
    page = chicago_phone
    order = paid_team_order()
    seat = order.seats.get(position=2)
    page.goto(seat.get_absolute_url())
    page.get_by_label("Your time zone").select_option("America/New_York")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_text("Saved: your time zone is Eastern Time.")).to_be_visible()
    first = order.workshop.sessions.order_by("starts_at").first()
    with time_machine.travel(first.starts_at - timedelta(hours=3)):
        call_command("send_reminders", stdout=open("/dev/null", "w"))
    (reminder,) = [m for m in mail.outbox if m.to == [seat.attendee_email] and m.subject.startswith("Reminder")]
    assert "4:00–6:00 PM Pacific Time (PDT) (for you: 7:00–9:00 PM Eastern Time (EDT))" in reminder.body
    email_page = page.context.new_page()
    email_page.set_content(reminder.alternatives[0][0])
    tour(email_page, "email-reminder-phone")
    email_page.close()
