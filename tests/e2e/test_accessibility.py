"""Keyboard-only use, visible focus, and form states (empty, errors, success) under axe-core."""

import re

import pytest

from registrations.models import Order, SeatAlert
from tests.e2e.helpers import audit, expect, focus_indicator, screenshot
from tests.e2e.pages import paid_team_order, sold_out_workshop

SLUG = "using-racial-affinity-groups-in-schools"
REGISTER = f"/workshops/{SLUG}/register/"

pytestmark = pytest.mark.e2e


def press_tab_until(page, target, *, backwards: bool = False, limit: int = 60) -> list[dict]:
    """Tab (or Shift+Tab) until `target` has focus, checking every stop on the way shows where focus is."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        stop = focus_indicator(page)
        stops.append(stop)
        assert stop["visible"], f"focus is not visible on {stop}"
        if target.evaluate("el => el === document.activeElement"):
            return stops
    raise AssertionError(f"never reached {target} with the keyboard; stops: {[s['name'] for s in stops]}")


def test_skip_link_is_first_and_moves_focus_to_the_content(page):
    page.goto(f"/workshops/{SLUG}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert focus_indicator(page)["visible"]
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab lands inside the content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def test_individual_registration_with_the_keyboard_alone(page, axe_source):
    page.goto(f"/workshops/{SLUG}/")
    press_tab_until(page, page.get_by_role("link", name="Register"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"{REGISTER}$"))

    press_tab_until(page, page.get_by_label("Your full name"))
    page.keyboard.type("Maya Chen")
    page.keyboard.press("Tab")
    page.keyboard.type("maya@lincoln")  # a slip, corrected below with Shift+Tab
    press_tab_until(page, page.get_by_label("School or district"))
    page.keyboard.type("Lincoln Middle School")
    press_tab_until(page, page.get_by_label("Your email"), backwards=True)
    page.keyboard.press("End")
    page.keyboard.type(".example")
    press_tab_until(page, page.get_by_label("Your role"))
    page.keyboard.press("ArrowDown")  # "Classroom teacher", the first real choice
    expect(page.get_by_label("Your role")).to_have_value("teacher")
    press_tab_until(page, page.get_by_label("I would like live captions"))
    page.keyboard.press("Space")
    expect(page.get_by_label("I would like live captions")).to_be_checked()
    press_tab_until(page, page.get_by_role("button", name="Continue to payment"))
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/test-payment/$"))
    press_tab_until(page, page.get_by_role("button", name=re.compile("Complete test payment")))
    page.keyboard.press("Space")

    expect(page.locator(".status-badge")).to_contain_text("Paid")
    order = Order.objects.get()
    seat = order.seats.get()
    assert (order.status, order.buyer_email, order.role) == (Order.Status.PAID, "maya@lincoln.example", "teacher")
    assert (seat.attendee_name, seat.needs_captions) == ("Maya Chen", True)


def test_registration_errors_are_announced_and_tied_to_their_fields(page, axe_source):
    page.goto(REGISTER)
    audit(page, axe_source, "empty form")
    page.get_by_label("Your email").fill("not-an-email")
    page.get_by_label("Number of seats").fill("2")
    page.get_by_role("group", name="Attendee 1").get_by_label("Name").fill("Jordan Lee")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_role("alert").first).to_contain_text("Please check the highlighted fields")
    expected = {
        "Your full name": "This field is required.",
        "Your email": "Enter a valid email address.",
        "School or district": "This field is required.",
        "Your role": "This field is required.",
    }
    for label, message in expected.items():
        field = page.get_by_label(label)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile(re.escape(message)))
    # A half-named attendee row points at the missing email, on that row.
    row_email = page.locator("[data-attendee-row]").first.get_by_label("Email")
    expect(row_email).to_have_attribute("aria-invalid", "true")
    expect(row_email).to_have_accessible_description(re.compile("Add their email"))
    # What was typed is still there.
    expect(page.get_by_label("Your email")).to_have_value("not-an-email")
    expect(page.locator("[data-attendee-row]").first.get_by_label("Name")).to_have_value("Jordan Lee")
    screenshot(page, "register-errors-desktop")
    audit(page, axe_source, "form with errors")
    assert Order.objects.count() == 0


def test_sold_out_alert_form_states_pass_axe(page, axe_source):
    sold_out_workshop()
    page.goto(REGISTER)
    expect(page.get_by_role("heading", level=1)).to_have_text("This workshop is sold out")
    audit(page, axe_source, "sold out, empty form")

    page.get_by_label("Your email").fill("waiting@school")
    page.get_by_role("button", name="Email me when seats open up").click()
    email = page.get_by_label("Your email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("Enter a valid email address"))
    audit(page, axe_source, "sold out, error")

    email.fill("waiting@school.example")
    page.get_by_role("button", name="Email me when seats open up").click()
    expect(page.get_by_role("status")).to_contain_text("We will email you as soon as seats open up")
    audit(page, axe_source, "sold out, success")
    assert list(SeatAlert.objects.values_list("email", flat=True)) == ["waiting@school.example"]


def test_team_lead_corrects_a_seat_with_the_keyboard_alone(page, axe_source):
    order = paid_team_order()
    page.goto(order.get_absolute_url())
    toggle = page.get_by_role("link", name="Change seat 2")
    press_tab_until(page, toggle)
    page.keyboard.press("Enter")  # opens seat 2's form (one seat at a time)
    seat2 = page.locator("#seat-2")
    expect(seat2.get_by_label(re.compile(r"^\s*Attendee's name"))).to_be_visible()
    press_tab_until(page, seat2.get_by_label(re.compile(r"^\s*Attendee's name")))
    page.keyboard.press("Control+A")
    page.keyboard.type("Luis Ortega-Díaz")
    press_tab_until(page, seat2.get_by_label(re.compile(r"^\s*Correct this attendee")))
    page.keyboard.press("Space")
    expect(seat2.get_by_label(re.compile(r"^\s*Correct this attendee"))).to_be_checked()
    press_tab_until(page, seat2.get_by_role("button", name="Save seat 2"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Seat 2 saved")
    expect(page.locator("#seat-2")).to_contain_text("Luis Ortega-Díaz")
    assert order.seats.get(position=2).attendee_name == "Luis Ortega-Díaz"
