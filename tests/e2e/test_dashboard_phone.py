"""The workshop dashboard on a 375 px phone: the page itself does not scroll sideways (the header and the
explanation stay in view); the table scrolls inside its own box, which a keyboard can reach to scroll it."""

import pytest

from tests.e2e.helpers import expect
from tests.e2e.test_staff_admin import a_week_of_sales, log_in

pytestmark = pytest.mark.e2e


def test_on_a_phone_the_dashboard_table_scrolls_in_its_box_not_the_page(phone_page, django_user_model):
    page = phone_page
    a_week_of_sales()
    log_in(page, django_user_model)
    page.goto("/admin/registrations/workshopdashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workshop dashboard")
    widths = page.evaluate(
        """() => ({page: document.documentElement.scrollWidth, window: document.documentElement.clientWidth})"""
    )
    assert widths["page"] <= widths["window"], widths
    region = page.get_by_role("region", name="Seats and revenue per workshop")
    assert region.get_attribute("tabindex") == "0"
    region.focus()
    page.keyboard.press("ArrowRight")
    # The browser may scroll smoothly: wait for the box to have moved (fails after the usual timeout if it never does).
    page.wait_for_function("el => el.scrollLeft > 0", arg=region.element_handle())
