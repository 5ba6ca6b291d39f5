"""Usability problems a tester found, most at a 375px phone width: after a post the person sees what happened
without scrolling, with focus on it; the order page's folded sections show whether they are open; a team's seat
rows show whole emails; the registration form shows the affinity-group choice only to a buyer who attends."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.models import Order
from tests.e2e.helpers import audit, expect, focus_indicator, phone_layout_problems, screenshot
from tests.e2e.pages import SLUG, paid_team_order
from tests.factories import OrderFactory

pytestmark = pytest.mark.e2e


def team_with_long_emails():
    order = paid_team_order(seat_count=6)
    for seat, (name, email) in zip(
        order.seats.order_by("position")[1:3],
        [("Luis Ortega", "luis.ortega-hernandez@riverside-unified.example"), ("Bea Black", "bea.black@district.example")],
        strict=True,
    ):
        seat.attendee_name, seat.attendee_email = name, email
        seat.save()
    return order


def open_seat_form(page, position):
    page.goto(f"{team_with_long_emails().get_absolute_url()}?edit={position}#seat-{position}")
    row = page.locator(f"#seat-{position}")
    row.get_by_label(re.compile(r"^\s*Attendee's name")).fill("Cara Cruz")
    return row


def test_a_refused_seat_on_a_phone_shows_the_problem_in_view(phone_page, axe_source):
    page = phone_page
    row = open_seat_form(page, 5)
    row.get_by_label(re.compile(r"^\s*Attendee's email")).fill("cara at district")
    row.get_by_role("button", name="Save seat 5").click()

    summary = page.locator("#seat-5").get_by_role("alert")
    expect(summary).to_contain_text("Please check the highlighted fields for seat 5.")
    expect(summary).to_be_in_viewport()
    expect(summary).to_be_focused()
    screenshot(page, "seat-refused-phone")
    audit(page, axe_source, "seat form with errors, phone")


def test_a_saved_seat_on_a_phone_shows_the_confirmation_in_view(phone_page, axe_source):
    page = phone_page
    row = open_seat_form(page, 5)
    row.get_by_label(re.compile(r"^\s*Attendee's email")).fill("cara.cruz@district.example")
    row.get_by_role("button", name="Save seat 5").click()

    expect(page).to_have_url(re.compile(r"#seat-5$"))
    saved = page.locator("#seat-5").get_by_role("status")
    expect(saved).to_contain_text("Seat 5 saved. We have emailed Cara Cruz their own link.")
    expect(saved).to_be_in_viewport()
    expect(saved).to_be_focused()
    expect(page.locator("#seat-5")).to_contain_text("cara.cruz@district.example")
    screenshot(page, "seat-saved-phone")
    audit(page, axe_source, "seat saved, phone")


def test_adding_seats_by_invoice_without_billing_details_shows_the_problem_in_view(phone_page):
    page = phone_page
    page.goto(paid_team_order().get_absolute_url())
    grow = page.locator("#add-seats")
    grow.get_by_label("Invoice my organisation").check()
    grow.get_by_role("button", name="Send the invoice").click()

    summary = page.locator("#add-seats").get_by_role("alert").first
    expect(summary).to_contain_text("Please check the highlighted fields.")
    expect(summary).to_be_in_viewport()
    expect(summary).to_be_focused()
    screenshot(page, "add-seats-invoice-empty-phone")


def test_add_seats_problem_without_javascript_is_pointed_to_from_the_top(nojs_page):
    page = nojs_page
    page.goto(paid_team_order().get_absolute_url())
    page.locator("#add-seats").get_by_label("Invoice my organisation").check()
    # Without JavaScript the button keeps the label of the choice the page opened with (this order paid by card).
    page.locator("#add-seats").get_by_role("button", name="Continue to payment").click()
    pointer = page.get_by_role("link", name="See what to correct under “Grow your team”")
    expect(pointer).to_be_in_viewport()
    pointer.click()
    expect(page.locator("#add-seats").get_by_role("alert").first).to_be_in_viewport()


def test_joining_the_waitlist_on_a_phone_shows_the_thanks_in_view(phone_page):
    page = phone_page
    page.goto("/")
    page.get_by_role("link", name="Join the waitlist").first.click()
    form = page.get_by_role("complementary", name="Join the waitlist")
    form.get_by_label("Your full name").fill("Keisha Brown")
    form.get_by_label("Your email").fill("kbrown@district.example")
    form.get_by_label("Your role").select_option(label="District leader")
    form.get_by_role("button", name="Join the waitlist").click()

    expect(page).to_have_url(re.compile(r"#waitlist$"))
    thanks = page.get_by_role("status")
    expect(thanks).to_contain_text("Thank you. We have emailed the link to your waitlist page")
    expect(thanks).to_be_in_viewport()
    expect(thanks).to_be_focused()
    screenshot(page, "cohort-joined-phone")


def test_folded_sections_show_whether_they_are_open_and_where_focus_is(page):
    page.goto(paid_team_order(po_number="PO-2027-0042").get_absolute_url())
    summaries = page.locator("details > summary")
    expect(summaries).to_have_count(3)  # several seats at once, receipt, change the PO number
    for summary in summaries.all():
        marker = summary.evaluate(
            "s => { const b = getComputedStyle(s, '::before'); const m = getComputedStyle(s, '::marker');"
            " return getComputedStyle(s).display === 'list-item' ? m.content : b.content + ' ' + b.borderRightWidth; }"
        )
        assert marker not in ("", "none", "normal") and not marker.startswith("none"), (summary.inner_text(), marker)
    receipt = page.locator("#receipt")
    turned = receipt.locator("> summary").evaluate("s => getComputedStyle(s, '::before').transform")
    summary = receipt.locator("> summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(receipt).to_have_attribute("open", "")
    assert summary.evaluate("s => getComputedStyle(s, '::before').transform") != turned  # the chevron turns
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert focus_indicator(page)["visible"] and focus_indicator(page)["tag"] == "summary"


def test_team_seat_rows_show_whole_emails_and_progress_on_a_phone(phone_page, axe_source):
    page = phone_page
    page.goto(team_with_long_emails().get_absolute_url())
    row = page.locator("#seat-2")
    details = row.locator(".small")
    expect(details).to_contain_text("luis.ortega-hernandez@riverside-unified.example · pre-work 0 of 120 min")
    # Nothing cut off: the line is as wide as its text, and the whole row fits the screen.
    assert details.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert details.evaluate("el => getComputedStyle(el).textOverflow") != "ellipsis"
    assert phone_layout_problems(page) == []
    row.scroll_into_view_if_needed()
    screenshot(page, "team-seat-rows-phone")
    audit(page, axe_source, "team seat rows, phone")


def test_the_affinity_choice_shows_only_while_the_buyer_attends(phone_page):
    page = phone_page
    page.goto(f"/workshops/{SLUG}/register/")
    attends = page.get_by_label("I will attend myself")
    section = page.get_by_role("group", name="Your affinity group (optional)")
    expect(section).to_be_visible()
    attends.uncheck()
    expect(section).to_be_hidden()
    screenshot(page, "register-not-attending-phone")
    attends.check()
    expect(section).to_be_visible()


# Found by a review: posts that redirected to a #fragment left their message at the top, out of view at 375px.
def test_saving_an_affinity_choice_on_a_phone_shows_the_confirmation_in_view(phone_page):
    page = phone_page
    page.goto(paid_team_order().seats.get(position=2).get_absolute_url())
    section = page.get_by_role("region", name="Your affinity group in the live sessions")
    section.get_by_text("Latine/Hispanic", exact=True).click()
    section.get_by_role("button", name="Save my choice").click()

    expect_the_outcome_in_view(page, "affinity", "Saved: you chose “Latine/Hispanic”.")


def test_cancelling_added_seats_on_a_phone_shows_the_outcome_in_view(phone_page):
    order = paid_team_order()
    OrderFactory(workshop=order.workshop, kind=Order.Kind.ADDITION, parent=order, seat_count=2, seats=[],
                 status=Order.Status.PENDING, paid_at=None, stripe_payment_intent_id="", total_cents=20000,
                 hold_expires_at=timezone.now() + timedelta(minutes=30))
    page = phone_page
    page.goto(order.get_absolute_url())
    page.get_by_role("button", name="Cancel adding these seats").click()

    expect_the_outcome_in_view(page, "add-seats", "The seats you were adding have been released")


def expect_the_outcome_in_view(page, place: str, text: str) -> None:
    """The page opened at #place, with the message there in view and focused (focus.js)."""
    expect(page).to_have_url(re.compile(rf"#{place}$"))
    page.wait_for_load_state("load")
    expect(page.locator(f"#{place}")).to_be_in_viewport()  # the browser has scrolled to the fragment
    outcome = page.get_by_text(text)
    expect(outcome).to_be_in_viewport()
    expect(page.get_by_role("status").filter(has=outcome)).to_be_focused()
