"""What a keyboard-and-phone walk-through by three first-time users found (teacher, team lead, coordinator): an
invoice registration refused for its billing details said nothing where the page opens; the registration form's
sections were not headings (its attendee rows jumped from h1 to h3); an order awaiting its invoice showed seats that
could not be named without saying why; paying for added seats (test mode) reopened the "Grow your team" form instead
of the confirmation; the test-payment heading broke the order reference at its hyphen."""

import re

import pytest

from registrations.models import Order
from tests.e2e.helpers import audit, expect, screenshot
from tests.e2e.pages import SLUG, invoiced_order, paid_team_order, pending_order

pytestmark = pytest.mark.e2e

REGISTER = f"/workshops/{SLUG}/register/"


def test_an_invoice_refused_for_its_billing_details_says_so_where_the_page_opens(phone_page, axe_source):
    page = phone_page
    page.goto(REGISTER)
    page.get_by_label("Your full name").fill("Denise Okafor")
    page.get_by_label("Your email").fill("dokafor@district.example")
    page.get_by_label("School or district").fill("Riverside Unified School District")
    page.get_by_label("Your role").select_option(index=1)
    page.get_by_label("Invoice my organisation").check()
    page.get_by_role("button", name="Send the invoice").click()

    # Everything else was fine: the only problems are the billing fields, thousands of pixels down a phone's page.
    summary = page.get_by_role("alert").first
    expect(summary).to_contain_text("Please check the highlighted fields below.")
    expect(summary).to_be_in_viewport()
    expect(summary).to_be_focused()
    expect(page.get_by_label("Billing contact name")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "register-invoice-billing-missing-phone")
    audit(page, axe_source, "invoice without billing details, phone")
    # The summary lists each field in error as a link: from the keyboard, one Tab and Enter reach the field.
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link", name="Billing contact name")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Billing contact name")).to_be_focused()
    expect(page.get_by_label("Billing contact name")).to_be_in_viewport()


def test_the_registration_form_sections_are_headings_in_order(page):
    page.goto(REGISTER)
    page.get_by_label("Number of seats").fill("3")
    expect(page.locator("[data-attendee-row]")).to_have_count(2)
    for name in ("About you", "Seats", "Attendees", "Payment"):
        expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
    expect(page.get_by_role("heading", level=3, name="Attendee 1")).to_be_visible()
    # Still the name of each group of fields.
    expect(page.get_by_role("group", name="Attendees")).to_be_visible()
    levels = page.evaluate(
        "() => [...document.querySelectorAll('main h1, main h2, main h3, main h4, main h5, main h6')]"
        ".filter(h => h.getClientRects().length).map(h => +h.tagName[1])"
    )
    jumps = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert levels[0] == 1 and not jumps, levels


def test_an_order_awaiting_its_invoice_says_when_seats_can_be_named(phone_page):
    page = phone_page
    page.goto(invoiced_order().get_absolute_url())
    seats = page.locator("#seats")
    expect(seats.locator("[data-seats-after-payment]")).to_have_text(re.compile("once the invoice is paid"))
    expect(seats.get_by_role("link", name=re.compile(r"^Name seat"))).to_have_count(0)

    page.goto(pending_order().get_absolute_url())
    expect(page.locator("[data-seats-after-payment]")).to_have_text(re.compile("once the payment goes through"))

    page.goto(paid_team_order().get_absolute_url())
    expect(page.locator("[data-seats-after-payment]")).to_have_count(0)


def test_paying_for_added_seats_opens_at_the_confirmation(phone_page):
    page = phone_page
    order = paid_team_order()
    page.goto(order.get_absolute_url())
    grow = page.locator("#add-seats")
    grow.get_by_label("Seats to add").fill("2")
    grow.get_by_label("Pay by card now").check()
    grow.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/test-payment/"))
    page.get_by_role("button", name=re.compile("Complete test payment")).click()

    # The "Grow your team" form (the fragment the add-seats post carried) is not where the person lands.
    expect(page).to_have_url(re.compile(re.escape(order.get_absolute_url()) + "$"))
    expect(page.get_by_text("Test payment received.")).to_be_in_viewport()
    expect(page.locator("span[data-order-summary]")).to_contain_text("7 seats")


def test_the_test_payment_heading_keeps_the_order_reference_whole(phone_page):
    page = phone_page
    order = pending_order()
    # A reference seen in the walk-through: "Pay for order ESL-" filled the first line at 375px.
    Order.objects.filter(pk=order.pk).update(reference="ESL-QNTU7D32")
    order.refresh_from_db()
    page.goto(f"{order.get_absolute_url()}test-payment/")
    lines = page.get_by_role("heading", level=1).evaluate(
        """(h1, reference) => {
            const walker = document.createTreeWalker(h1, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf(reference);
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + reference.length);
                return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
            }
            return 0;
        }""",
        order.reference,
    )
    assert lines == 1, f"the reference {order.reference} is split over {lines} lines"


def test_the_affinity_privacy_note_keeps_its_text_off_the_box_edge(phone_page):
    page = phone_page
    page.goto(REGISTER)
    box = page.locator(".affinity-privacy").first
    expect(box).to_be_visible()
    gap = box.evaluate(
        "el => el.getBoundingClientRect().right - Math.max(...[...el.querySelectorAll('li')].map(li => li.getBoundingClientRect().right))"
    )
    assert gap >= 12, f"the note's text runs to {gap:.0f}px from the edge of its tinted box"
