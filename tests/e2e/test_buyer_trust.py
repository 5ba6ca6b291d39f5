"""On a 375px phone: a team lead names 50 seats by pasting a list, someone who lost their links gets them
by email, and the seat count says at once when it is more than is left. Screenshots for the README tour."""

import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.cache import cache

from registrations.models import Order, Seat
from tests.e2e.helpers import audit, expect, phone_layout_problems, screenshot
from tests.e2e.pages import demo_workshop, paid_team_order

pytestmark = pytest.mark.e2e
TOUR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def tour(page, name: str, full_page: bool = True) -> None:
    """A small PNG for the README's screenshot tour (docs/screenshots/, committed)."""
    from PIL import Image

    TOUR.mkdir(parents=True, exist_ok=True)
    path = TOUR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, type="png")
    Image.open(path).convert("RGB").quantize(colors=64).save(path, optimize=True)


def test_a_team_lead_names_fifty_seats_by_pasting_a_list_on_a_phone(phone_page, axe_source):
    page = phone_page
    order = paid_team_order(seat_count=50, seats=["Denise Okafor"])
    order.seats.filter(position=1).update(attendee_email="dokafor@district.example")  # the lead attends
    page.goto(order.get_absolute_url())
    expect(page.locator("[data-seat-summary]")).to_have_text(re.compile(r"1 of 50 named, 0 finished pre-work"))
    expect(page.get_by_role("link", name="Go to your attendee page")).to_be_visible()
    assert phone_layout_problems(page) == []
    before = page.evaluate("document.documentElement.scrollHeight")

    names = "\n".join(f"Teacher {n}, teacher{n}@riverside.example" for n in range(2, 51))
    page.get_by_label("One attendee per line: name, then email").fill(names)
    page.get_by_role("button", name="Name these seats").click()
    expect(page.get_by_text("49 seats named. Each attendee has been emailed their own link.")).to_be_visible()
    expect(page.locator("[data-seat-summary]")).to_have_text(re.compile(r"50 of 50 named"))
    assert Order.objects.get(pk=order.pk).seats.exclude(attendee_email="").count() == 50
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "50 seats named")
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"\nteam order page at 375px: {before}px tall with 49 seats to name, {height}px with all 50 named")
    # Each row shows the whole email and pre-work progress on a line below the name and buttons, wrapped rather
    # than cut off, so a row is up to three short lines: compact still, the page no longer one line per seat.
    rows = page.locator("li.seat-row").evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    print(f"seat rows {min(rows):.0f}-{max(rows):.0f}px tall")
    assert max(rows) <= 110, f"a seat row is {max(rows):.0f}px tall"
    assert height < 50 * 150, f"{height}px is too tall for 50 seats"
    page.evaluate("window.scrollTo(0, 0)")
    tour(page, "order-team-phone", full_page=False)
    screenshot(page, "order-team-50-phone")

    # One edit at a time: the chosen seat opens its form, the others stay one line each.
    page.get_by_role("link", name="Change seat 7").click()
    expect(page.locator('input[name="seat-7-name"]')).to_be_visible()
    assert page.locator("form.seat-form").count() == 1
    assert phone_layout_problems(page) == []


def test_a_pasted_list_with_mistakes_shows_each_line_to_fix(phone_page):
    page = phone_page
    order = paid_team_order(seat_count=5, seats=["Denise Okafor"])
    page.goto(order.get_absolute_url())
    page.get_by_label("One attendee per line: name, then email").fill("Ana Diaz, ana@x.example\nBen Okafor, ben@\n, carla@x.example")
    page.get_by_role("button", name="Name these seats").click()
    errors = page.locator("[data-row-errors]")
    expect(errors).to_contain_text("Line 2")
    expect(errors).to_contain_text("“ben@” is not a valid email address.")
    expect(errors).to_contain_text("Line 3")
    expect(page.get_by_label("One attendee per line: name, then email")).to_have_value(re.compile("Ben Okafor, ben@"))
    assert phone_layout_problems(page) == []


def test_lost_links_come_by_email_on_a_phone(phone_page, axe_source, settings):
    cache.clear()
    settings.SITE_URL = "https://workshops.example.org"  # the email is written by a background task, as in production
    page = phone_page
    order = paid_team_order()
    page.goto("/orders/this-link-is-old-and-no-longer-works-xxxx/")
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    page.get_by_role("link", name="Email me my links").first.click()
    audit(page, axe_source, "lost links form")
    assert phone_layout_problems(page) == []
    page.get_by_label("Your email address").fill("dokafor@district.example")
    page.get_by_role("button", name="Email me my links").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert phone_layout_problems(page) == []
    sent = [m for m in mail.outbox if m.to == ["dokafor@district.example"]]
    assert len(sent) == 1 and order.token in sent[0].body
    # The email as a person sees it: its HTML part, rendered in a tab of its own (a mail client applies
    # the email's inline styles; the site's CSP would block them on the site's own page).
    email_page = page.context.new_page()
    email_page.set_content(sent[0].alternatives[0][0])
    tour(email_page, "email-links-phone")
    email_page.close()


def test_the_seat_count_says_at_once_when_too_many_are_typed(phone_page, axe_source):
    page = phone_page
    workshop = demo_workshop()
    workshop.capacity = 3
    workshop.save()
    page.goto(f"/workshops/{workshop.slug}/register/")
    seats = page.get_by_label("Number of seats")
    seats.fill("6")
    message = page.locator("#seat-count-live")
    expect(message).to_have_text("Only 3 seats left. Please choose 3 or fewer.")
    expect(seats).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#price-summary")).to_contain_text("Only 3 seats left.")
    expect(page.locator("#price-summary [data-total]")).to_have_count(0)
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "too many seats typed")
    seats.fill("3")
    expect(message).to_be_hidden()
    expect(page.locator("#price-summary")).to_contain_text("$360.00")


def test_the_home_page_first_screen_on_a_phone_shows_dates_price_and_register(phone_page):
    page = phone_page
    page.goto("/")
    viewport = page.viewport_size["height"]
    for locator in (page.locator("[data-hero-dates]"), page.locator("[data-hero-price]"),
                    page.get_by_role("link", name="Register", exact=True).first):
        box = locator.bounding_box()
        assert box is not None and box["y"] + box["height"] <= viewport, f"below the first screen: {box}"
    tour(page, "home-phone", full_page=False)


def test_screenshot_tour_of_the_main_pages(page, phone_page):
    workshop = demo_workshop()
    phone_page.goto(workshop.get_absolute_url())
    tour(phone_page, "workshop-phone", full_page=False)
    phone_page.goto(f"/workshops/{workshop.slug}/register/")
    phone_page.get_by_label("Number of seats").fill("5")
    tour(phone_page, "register-phone", full_page=False)
    order = paid_team_order()
    seat = order.seats.get(position=2)
    Seat.objects.filter(pk=seat.pk).update(time_zone="America/Chicago")  # as if chosen on the page
    phone_page.goto(seat.get_absolute_url())
    expect(phone_page.locator("[data-own-time]").first).to_contain_text("Central Time")
    tour(phone_page, "attendee-phone", full_page=False)
    page.goto(f"/workshops/{workshop.slug}/register/")
    tour(page, "register-desktop", full_page=False)
    page.goto(order.get_absolute_url())
    tour(page, "order-team-desktop", full_page=False)
    assert sorted(p.name for p in TOUR.glob("*-desktop.png")) == ["order-team-desktop.png", "register-desktop.png"]


@pytest.mark.parametrize("path", ["/privacy/", "/refunds/", "/accessibility/", "/links/sent/"])
def test_the_help_pages_pass_axe_and_fit_a_phone(phone_page, axe_source, path):
    phone_page.goto(path)
    audit(phone_page, axe_source, path)
    assert phone_layout_problems(phone_page) == []
