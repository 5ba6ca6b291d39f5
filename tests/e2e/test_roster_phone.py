"""The roster on the day, on a 375 px phone: each attendee is a card with their name, the tick box and every
session's attendance in view, nothing scrolls sideways, and attendance is marked by touch or by keyboard.

The screenshot is saved to docs/screenshots/admin-roster-phone.png next to the 1280 px admin screenshots.
"""

import re
from datetime import timedelta

import pytest
import time_machine

from registrations.models import Attendance
from tests.e2e.helpers import audit, expect, screenshot
from tests.e2e.pages import demo_workshop
from tests.e2e.test_staff_admin import a_week_of_sales, log_in, save_for_the_readme, sideways_scrolling

pytestmark = pytest.mark.e2e


def roster_path() -> str:
    return f"/admin/registrations/rosterseat/?order__workshop__id__exact={demo_workshop().pk}"


def session_days() -> dict[int, str]:
    workshop = demo_workshop()
    return {n: f"{s.starts_at.astimezone(workshop.tz):%b %-d}" for n, s in enumerate(workshop.sessions.order_by("starts_at"), 1)}


def widths(page) -> dict:
    return page.evaluate(
        """() => {
        const table = document.querySelector('#result_list');
        return {page: document.documentElement.scrollWidth, table: table.scrollWidth, table_client: table.clientWidth,
                results: table.parentElement.scrollWidth, results_client: table.parentElement.clientWidth};
    }"""
    )


def outside_the_window(page) -> list[str]:
    """Cells of each row (tick box, name, every session's attendance) that reach past the 375 px window's sides."""
    return page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        const out = [];
        for (const row of document.querySelectorAll('#result_list tbody tr')) {
            const cells = row.querySelectorAll('td.action-checkbox, td.field-attendee, td[class*="field-attended_session_"]');
            if (cells.length < 4) out.push(`a row has ${cells.length} of its cells`);
            for (const cell of cells) {
                const box = cell.getBoundingClientRect();
                if (box.width === 0 || box.left < 0 || box.right > width) out.push(`${cell.className}: ${box.left}-${box.right}`);
            }
        }
        return out;
    }"""
    )


def label_of(cell) -> str:
    """The label shown before a cell's value (CSS generated content, without its empty alternative text)."""
    return cell.evaluate("el => getComputedStyle(el, '::before').content").removesuffix(' / ""')


def outline_px(page) -> float:
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth); }"
    )


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the element matching the selector has focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{selector} never got focus by keyboard")


def test_on_a_phone_each_row_shows_the_name_tick_box_and_every_sessions_attendance(phone_page, django_user_model, axe_source):
    page = phone_page
    a_week_of_sales()
    days = session_days()
    log_in(page, django_user_model)
    page.goto(roster_path())
    expect(page.get_by_role("heading", level=1)).to_have_text("Roster and attendance")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(10)

    assert page.viewport_size["width"] == 375
    sizes = widths(page)
    assert sizes["page"] <= 375, sizes
    assert sizes["table"] <= sizes["table_client"] and sizes["results"] <= sizes["results_client"], sizes
    assert sideways_scrolling(page) == []
    assert outside_the_window(page) == []

    # Each attendance value says which session it is, and the row can be ticked with a finger.
    luis = rows.filter(has_text="Luis Ortega")
    for number, day in days.items():
        assert label_of(luis.locator(f"td.field-attended_session_{number}")) == f'"Session {number} {day}"'
    box = luis.get_by_role("checkbox").bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, box
    luis.locator(f"td.field-attended_session_{len(days)}").scroll_into_view_if_needed()
    for number in days:
        expect(luis.locator(f"td.field-attended_session_{number}")).to_be_in_viewport(ratio=1)
    screenshot(page, "admin-roster-phone-before")
    audit(page, axe_source, "roster, phone")


def test_on_a_phone_attendance_is_marked_by_touch_and_by_keyboard(phone_page, django_user_model, axe_source):
    page = phone_page
    a_week_of_sales()
    first = demo_workshop().sessions.order_by("starts_at").first()
    with time_machine.travel(first.starts_at + timedelta(minutes=30), tick=True):
        log_in(page, django_user_model)
        page.goto(roster_path())
        rows = page.locator("#result_list tbody tr")
        rows.filter(has_text="Priya Natarajan").get_by_role("checkbox").tap()

        # Keyboard only from here: Tab to Luis's tick box, Space, back to the Action list, choose, Go.
        seat = rows.filter(has_text="Luis Ortega").get_by_role("checkbox").get_attribute("value")
        tab_to(page, f'#result_list input.action-select[value="{seat}"]')
        assert outline_px(page) >= 2, "the focused tick box shows no outline"
        page.keyboard.press("Space")
        expect(rows.filter(has_text="Luis Ortega").get_by_role("checkbox")).to_be_checked()
        tab_to(page, "select[name=action]", backwards=True)
        wanted = page.locator("select[name=action] option", has_text=re.compile(r"^Mark attended: session 1\b")).get_attribute("value")
        for _ in range(40):
            if page.locator("select[name=action]").input_value() == wanted:
                break
            page.keyboard.press("ArrowDown")
        assert page.locator("select[name=action]").input_value() == wanted
        page.keyboard.press("Tab")
        expect(page.locator("button[name=index]")).to_be_focused()
        page.keyboard.press("Enter")

        expect(page.locator(".messagelist")).to_contain_text("Marked session 1 attendance for 2 attendee(s).")
        assert sorted(Attendance.objects.values_list("seat__attendee_name", flat=True)) == ["Luis Ortega", "Priya Natarajan"]
        luis = page.locator("#result_list tbody tr").filter(has_text="Luis Ortega")
        expect(luis.locator("td.field-attended_session_1 img")).to_have_attribute("alt", "True")
        luis.locator("td.field-attended_session_1").scroll_into_view_if_needed()
        expect(luis.locator("td.field-attended_session_1 img")).to_be_in_viewport(ratio=1)
        assert sideways_scrolling(page) == []
        save_for_the_readme(page, "admin-roster-phone")
        audit(page, axe_source, "roster after marking, phone")
