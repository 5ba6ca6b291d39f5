"""On a phone, with the keyboard alone, the order page's "Grow your team" button follows the payment chosen, as the
registration page's does: "Continue to payment" for a card, "Send the invoice" for an invoice (emailed at once)."""

import pytest

from tests.e2e.helpers import audit, expect, phone_layout_problems, screenshot
from tests.e2e.pages import paid_team_order
from tests.e2e.test_accessibility import press_tab_until

pytestmark = pytest.mark.e2e


def test_switching_the_payment_with_the_keyboard_changes_the_button_on_a_phone(phone_page, axe_source):
    page = phone_page
    assert page.viewport_size["width"] == 375
    page.goto(paid_team_order().get_absolute_url())
    grow = page.locator("#add-seats")
    button = grow.locator("[data-pay-button]")
    expect(button).to_have_text("Continue to payment")

    card = grow.get_by_label("Pay by card now")
    press_tab_until(page, card, limit=120)
    page.keyboard.press("ArrowDown")  # a radio group: the arrow moves the choice to "Invoice my organisation"
    expect(grow.get_by_label("Invoice my organisation")).to_be_checked()
    expect(button).to_have_text("Send the invoice")
    expect(button).to_have_attribute("data-busy-label", "Sending the invoice…")
    expect(grow.locator("[data-add-seats-next]")).to_be_visible()
    # As on the registration page, the main button runs the phone's width (it sat small under a long form).
    form_width = grow.locator("form").first.bounding_box()["width"]
    assert button.bounding_box()["width"] == pytest.approx(form_width, abs=1)
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "add seats, invoice chosen, phone")
    screenshot(page, "add-seats-invoice-chosen-phone")

    page.keyboard.press("ArrowUp")
    expect(card).to_be_checked()
    expect(button).to_have_text("Continue to payment")
    expect(button).to_have_attribute("data-busy-label", "Adding seats…")
