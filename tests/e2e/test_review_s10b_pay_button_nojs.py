"""Review of the tenth session (b): the order page's "Grow your team" button on a 375 px phone with JavaScript off,
used with the keyboard alone. The label is the server's: after an invoice was chosen and the form came back with a
mistake, the button says what pressing it now does ("Send the invoice"), the mistake is beside its field, and what
was typed is kept."""

import pytest

from tests.e2e.conftest import PHONE, _new_page
from tests.e2e.helpers import expect, phone_layout_problems
from tests.e2e.pages import paid_team_order
from tests.e2e.test_accessibility import press_tab_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def nojs_phone_page(browser, site):
    context, page = _new_page(browser, site, viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False)
    yield page
    context.close()
    assert not page.page_errors, "\n".join(page.page_errors)


def test_without_javascript_a_posted_invoice_choice_relabels_the_button_and_keeps_what_was_typed(nojs_phone_page):
    page = nojs_phone_page
    page.goto(paid_team_order().get_absolute_url())
    grow = page.locator("#add-seats")
    button = grow.locator("[data-pay-button]")
    expect(button).to_have_text("Continue to payment")  # the order was paid by card: the choice it opens with

    press_tab_until(page, grow.get_by_label("Pay by card now"), limit=120)
    page.keyboard.press("ArrowDown")
    expect(grow.get_by_label("Invoice my organisation")).to_be_checked()
    billing_email = grow.get_by_label("Billing contact email")
    press_tab_until(page, billing_email, limit=20)
    page.keyboard.type("accounts@riverside")  # no domain ending: a mistake
    page.keyboard.press("Enter")  # submits the form, as the button would

    grow = page.locator("#add-seats")
    expect(grow.locator("[data-pay-button]")).to_have_text("Send the invoice")
    expect(grow.get_by_label("Invoice my organisation")).to_be_checked()
    expect(grow.get_by_label("Billing contact email")).to_have_value("accounts@riverside")
    expect(grow.get_by_label("Billing contact email")).to_have_attribute("aria-invalid", "true")
    expect(grow.locator("#id_grow-billing_name_error")).to_be_visible()  # beside the field left empty
    assert phone_layout_problems(page) == []
