"""Every public page: no WCAG 2.1 A/AA violations (axe-core), usable on a 375px phone, and a screenshot of each."""

import re

import pytest

from tests.e2e.helpers import (
    audit,
    expect,
    focus_indicator,
    phone_layout_problems,
    screenshot,
)
from tests.e2e.pages import PUBLIC_PAGES, SLUG

pytestmark = pytest.mark.e2e


def open_page(page, name: str):
    response = page.goto(PUBLIC_PAGES[name]())
    expected = 404 if name == "not-found" else 200
    assert response.status == expected, f"{name}: HTTP {response.status}"


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_page_passes_axe_shows_focus_and_fits_a_phone(page, phone_page, axe_source, name):
    """One test per page (desktop and phone together) keeps the database resets, the slow part, to one per page."""
    open_page(page, name)
    screenshot(page, f"{name}-desktop")
    audit(page, axe_source, "1280 x 900")
    hidden_focus = []
    for _ in range(80):  # every Tab stop on the page, until focus leaves the document
        page.keyboard.press("Tab")
        stop = focus_indicator(page)
        if stop["tag"] == "body":
            break
        if not stop["visible"]:
            hidden_focus.append(stop)
    assert hidden_focus == [], f"focus is not visible on: {hidden_focus}"

    phone_page.goto(page.url)
    screenshot(phone_page, f"{name}-phone")
    assert phone_layout_problems(phone_page) == []
    audit(phone_page, axe_source, "375 x 812")


def test_phone_header_fits_one_line_and_its_menu_reaches_the_sections(phone_page, axe_source):
    page = phone_page
    page.goto("/")
    toggle = page.get_by_role("button", name="Show menu")
    brand = page.get_by_role("link", name="Equity School Leadership").bounding_box()
    box = toggle.bounding_box()
    assert box["y"] < brand["y"] + brand["height"], f"the menu button wrapped below the site name: {brand}, {box}"
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Year-long course")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    course = page.get_by_role("navigation", name="Main").get_by_role("link", name="Year-long course")
    expect(course).to_be_visible()
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "menu open")
    course.click()
    expect(page).to_have_url(re.compile(r"/#cohort$"))
    expect(page.locator("#cohort")).to_be_in_viewport()


def test_phone_visitor_reaches_dates_and_price_from_the_top_of_the_workshop_page(phone_page):
    page = phone_page
    page.goto(f"/workshops/{SLUG}/")
    jump = page.get_by_role("link", name="Dates, price and registration")
    expect(jump).to_be_in_viewport()
    jump.click()
    expect(page.get_by_role("heading", name="Live sessions")).to_be_in_viewport()
    expect(page.get_by_role("complementary", name="Dates, price and registration")).to_contain_text("$100.00")
