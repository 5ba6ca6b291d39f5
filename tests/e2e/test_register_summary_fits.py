"""The registration page's summary box (total, next step, "Continue to payment", "Download a quote") sticks beside the
form only in a window tall enough for all of it: on a 1366x768 laptop a sticky box taller than the window hid its
lower part, the quote button among it, until the very end of the page."""

import pytest

from tests.e2e.conftest import _new_page
from tests.e2e.pages import SLUG

pytestmark = pytest.mark.e2e

REGISTER = f"/workshops/{SLUG}/register/"

STATE = """() => {
    const box = document.querySelector('.summary-box--sticky');
    const rect = el => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
    return {position: getComputedStyle(box).position, height: innerHeight, box: rect(box),
            pay: rect(box.querySelector('[data-pay-button]')), quote: rect(box.querySelector('[name=download_quote]'))};
}"""


def summary_when_scrolled(browser, site, *, width: int, height: int, seats_without_js: int = 0) -> dict:
    """The box, its two buttons and the window, with the page scrolled halfway down the form (where a sticky box sticks).
    With `seats_without_js`, JavaScript is off and that many seats are chosen with "Update total" (the tallest box)."""
    options = {"java_script_enabled": False} if seats_without_js else {}
    context, page = _new_page(browser, site, viewport={"width": width, "height": height}, **options)
    try:
        page.goto(REGISTER)
        if seats_without_js:
            page.get_by_label("Number of seats").fill(str(seats_without_js))
            page.locator("button[name=update]").first.click()
            page.wait_for_load_state()
        page.evaluate("() => window.scrollTo(0, 1000)")
        page.wait_for_function("() => window.scrollY >= 1000")
        return page.evaluate(STATE)
    finally:
        context.close()
        assert not page.page_errors, "\n".join(page.page_errors)


def in_view(rect: dict, height: int) -> bool:
    return 0 <= rect["top"] and rect["bottom"] <= height


def test_on_a_1366x768_laptop_the_summary_sticks_only_if_all_of_it_is_in_view(browser, site):
    state = summary_when_scrolled(browser, site, width=1366, height=768)
    if state["position"] == "sticky":
        assert in_view(state["box"], state["height"]), state  # else its foot is out of reach until the page ends
        assert in_view(state["pay"], state["height"]) and in_view(state["quote"], state["height"]), state
    else:
        assert state["position"] == "static", state


def test_in_a_tall_window_the_whole_summary_stays_in_view_beside_the_form(browser, site):
    state = summary_when_scrolled(browser, site, width=1366, height=1000)
    assert state["position"] == "sticky", state
    assert in_view(state["box"], state["height"]), state
    assert in_view(state["pay"], state["height"]) and in_view(state["quote"], state["height"]), state


@pytest.mark.parametrize("height", [900, 940, 1000])
def test_without_javascript_four_seats_summary_sticks_only_if_all_of_it_is_in_view(browser, site, height):
    state = summary_when_scrolled(browser, site, width=1366, height=height, seats_without_js=4)
    if state["position"] == "sticky":
        assert in_view(state["box"], state["height"]), state
        assert in_view(state["pay"], state["height"]) and in_view(state["quote"], state["height"]), state
    else:
        assert state["position"] == "static", state
