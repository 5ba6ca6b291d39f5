"""The registration page's main button says what it does for the payment chosen: "Continue to payment" for a card,
"Send the invoice" for an invoice (emailed at once), and so does its busy label and the line above it. At 1280 px the
summary beside the total names the choice and links to it; without JavaScript both next steps are written there."""

import re

import pytest

from tests.e2e.helpers import audit, expect, phone_layout_problems, screenshot
from tests.e2e.pages import SLUG

pytestmark = pytest.mark.e2e

REGISTER = f"/workshops/{SLUG}/register/"


def keep_the_page_on_submit(page):
    """Count the submissions the page lets go, and stay on the page to look at it."""
    page.evaluate("""() => { window.sent = 0; window.addEventListener('submit', e => {
        if (!e.defaultPrevented) { window.sent += 1; } e.preventDefault(); }); }""")


def test_the_button_and_its_busy_label_follow_the_payment_choice_on_a_phone(phone_page, axe_source):
    page = phone_page
    page.goto(REGISTER)
    button = page.locator("#registration-form [data-pay-button]")
    card_step, invoice_step = page.locator('[data-next-step="card"]').first, page.locator('[data-next-step="invoice"]')
    expect(button).to_have_text("Continue to payment")
    expect(card_step).to_be_visible()
    expect(invoice_step).to_be_hidden()

    page.get_by_label("Invoice my organisation").check()
    expect(page.get_by_role("button", name="Send the invoice")).to_be_visible()
    expect(card_step).to_be_hidden()
    expect(invoice_step).to_contain_text("we email the invoice to your billing contact as soon as you press the button")
    page.get_by_label("Billing contact email").fill("ap@district.example")
    expect(invoice_step).to_contain_text("we email the invoice to ap@district.example")
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "invoice chosen, phone")
    screenshot(page, "register-invoice-chosen-phone")

    page.get_by_label("Pay by card now").check()
    expect(button).to_have_text("Continue to payment")
    page.get_by_label("Invoice my organisation").check()
    keep_the_page_on_submit(page)
    button.click()
    expect(button).to_have_text("Sending the invoice…")
    expect(page.locator("[data-busy-status]")).to_have_text("Sending the invoice…")
    assert page.evaluate("window.sent") == 1


def test_the_summary_beside_the_total_names_the_choice_and_links_to_it(page):
    page.goto(REGISTER)
    summary = page.locator(".summary-box--sticky")
    expect(summary.locator('[data-next-step="card"]').first).to_contain_text("Pay by card now")
    link = summary.get_by_role("link", name="Change how you pay (card or invoice)")
    expect(link).to_be_in_viewport()  # beside the total and the button, at the top of a 1280 px page
    screenshot(page, "register-payment-summary-desktop")
    link.click()
    expect(page).to_have_url(re.compile(r"#payment-choice$"))
    expect(page.get_by_label("Invoice my organisation")).to_be_in_viewport()


def test_without_javascript_both_next_steps_are_written_beside_the_button(nojs_page):
    page = nojs_page
    page.goto(REGISTER)
    expect(page.get_by_role("button", name="Continue to payment")).to_be_visible()
    expect(page.locator('[data-next-step="card"]').first).to_be_visible()
    expect(page.locator('[data-next-step="invoice"]')).to_be_visible()
