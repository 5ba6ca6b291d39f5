"""People registering in a real browser: an individual, a team lead, and a buyer who changes their mind."""

import re

import pytest

from registrations.models import Order
from registrations.services.vouchers import create_quote
from tests.e2e.helpers import audit, expect, screenshot

SLUG = "using-racial-affinity-groups-in-schools"
REGISTER = f"/workshops/{SLUG}/register/"

pytestmark = pytest.mark.e2e


def fill_about_you(page, *, name, email, organisation, role):
    page.get_by_label("Your full name").fill(name)
    page.get_by_label("Your email").fill(email)
    page.get_by_label("School or district").fill(organisation)
    page.get_by_label("Your role").select_option(label=role)


def attendee_row(page, number: int):
    """Each row is a group named by its heading, so "Name" is announced as Attendee 2's name."""
    return page.get_by_role("group", name=f"Attendee {number}", exact=True)


def test_individual_registers_and_pays_through_the_test_payment(page, axe_source):
    page.goto("/")
    page.get_by_role("link", name="Using Racial Affinity Groups in Schools").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Using Racial Affinity Groups in Schools")
    page.get_by_role("link", name="Register").click()
    expect(page).to_have_url(re.compile(f"{REGISTER}$"))

    fill_about_you(page, name="Maya Chen", email="maya@lincoln.example", organisation="Lincoln Middle School",
                   role="Classroom teacher")
    expect(page.locator("#price-summary")).to_contain_text("1 seat × $120.00")
    expect(page.locator("#price-summary")).to_contain_text("$120.00")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page).to_have_url(re.compile(r"/orders/[\w-]+/test-payment/$"))
    expect(page.get_by_role("note")).to_contain_text("Test payment")
    expect(page.locator("dl")).to_contain_text("1 × $120.00")
    audit(page, axe_source, "test payment")
    screenshot(page, "test-payment-desktop")
    page.get_by_role("button", name="Complete test payment of $120.00").click()

    expect(page).to_have_url(re.compile(r"/orders/[\w-]+/$"))
    expect(page.get_by_role("status")).to_contain_text("Test payment received.")
    expect(page.locator(".status-badge")).to_contain_text("Paid")
    expect(page.get_by_role("region", name="Receipt", exact=True)).to_contain_text("$120.00")
    seat_list = page.get_by_role("region", name="Seats", exact=True)
    expect(seat_list).to_contain_text("Seat 1")
    expect(seat_list.locator("#seat-1")).to_contain_text("Maya Chen")
    expect(seat_list.locator("#seat-1")).to_contain_text("maya@lincoln.example")
    expect(page.get_by_role("link", name="Go to your attendee page")).to_be_visible()
    audit(page, axe_source, "paid order")
    screenshot(page, "order-paid-desktop")

    order = Order.objects.get()
    assert (order.status, order.seat_count, order.total_cents, order.buyer_email) == (
        Order.Status.PAID, 1, 12000, "maya@lincoln.example"
    )
    assert order.get_absolute_url() in page.url


def test_team_lead_buys_five_seats_names_two_then_names_the_rest_on_the_order_page(page, axe_source):
    page.goto(REGISTER)
    summary = page.locator("#price-summary")
    seats = page.get_by_label("Number of seats")

    seats.fill("4")
    expect(summary).to_contain_text("4 seats × $120.00")
    expect(summary.locator(".total-amount")).to_have_text("$480.00")
    expect(summary).to_contain_text("Add one more seat and every seat is $100.00: 5 seats for $500.00.")
    seats.fill("5")
    expect(summary).to_contain_text("5 seats × $100.00")
    expect(summary.locator(".total-amount")).to_have_text("$500.00")
    # The lead takes one seat; the other four get attendee rows.
    expect(page.locator("[data-attendee-row]")).to_have_count(4)
    audit(page, axe_source, "five seats, attendee rows added by JavaScript")

    fill_about_you(page, name="Denise Okafor", email="dokafor@district.example", organisation="Riverside Unified",
                   role="District leader")
    attendee_row(page, 1).get_by_label("Name").fill("Luis Ortega")
    attendee_row(page, 1).get_by_label("Email").fill("lortega@district.example")
    attendee_row(page, 2).get_by_label("Name").fill("Priya Natarajan")
    attendee_row(page, 2).get_by_label("Email").fill("pnatarajan@district.example")
    attendee_row(page, 2).get_by_label("Live captions").check()
    screenshot(page, "register-team-desktop")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page).to_have_url(re.compile(r"/test-payment/$"))
    expect(page.locator("dl")).to_contain_text("5 × $100.00")
    page.get_by_role("button", name="Complete test payment of $500.00").click()

    expect(page.locator(".status-badge")).to_contain_text("Paid")
    expect(page.locator("[data-seat-summary]")).to_contain_text("3 of 5 named")
    page.get_by_text("Receipt and purchase order").click()  # folded below the seats on a team's page
    receipt = page.get_by_role("region", name="Receipt", exact=True)
    expect(receipt).to_contain_text("$100.00 (team price, 5+ seats)")
    expect(receipt).to_contain_text("$500.00")
    seat_list = page.get_by_role("region", name="Seats", exact=True)
    expect(seat_list).to_contain_text("Denise Okafor")
    expect(seat_list).to_contain_text("Luis Ortega")
    expect(seat_list).to_contain_text("Priya Natarajan")
    expect(seat_list.get_by_text("not named yet")).to_have_count(2)

    order = Order.objects.get()
    assert (order.status, order.seat_count, order.unit_price_cents, order.total_cents) == (Order.Status.PAID, 5, 10000, 50000)
    named = [s.attendee_name for s in order.seats.order_by("position")]
    assert named == ["Denise Okafor", "Luis Ortega", "Priya Natarajan", "", ""]
    audit(page, axe_source, "paid team order, two seats to name")
    screenshot(page, "order-team-desktop")

    # Later, from the order link: seat 4 with a slip first, then seats 4 and 5 properly, one at a time.
    page.get_by_role("link", name="Name seat 4").click()
    seat4 = page.locator("#seat-4")
    seat4.get_by_label("Attendee's name").fill("Grace Kim")
    seat4.get_by_role("button", name="Save seat 4").click()
    seat4 = page.locator("#seat-4")
    expect(seat4.get_by_role("alert")).to_contain_text("Please check the highlighted fields for seat 4")
    email = seat4.get_by_label("Attendee's email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("This field is required"))
    expect(seat4.get_by_label("Attendee's name")).to_have_value("Grace Kim")
    audit(page, axe_source, "seat form with an error")
    email.fill("gkim@district.example")
    seat4.get_by_role("button", name="Save seat 4").click()
    expect(page.get_by_role("status")).to_contain_text("Seat 4 saved")

    page.get_by_role("link", name="Name seat 5").click()
    seat5 = page.locator("#seat-5")
    seat5.get_by_label("Attendee's name").fill("Tomás Álvarez")
    seat5.get_by_label("Attendee's email").fill("talvarez@district.example")
    seat5.get_by_role("button", name="Save seat 5").click()
    expect(page.get_by_role("status")).to_contain_text("Seat 5 saved")

    seat_list = page.get_by_role("region", name="Seats", exact=True)
    expect(seat_list.locator("#seat-4")).to_contain_text("Grace Kim")
    expect(seat_list.locator("#seat-4")).to_contain_text("gkim@district.example")
    expect(seat_list.locator("#seat-5")).to_contain_text("Tomás Álvarez")
    expect(seat_list.locator("#seat-5")).to_contain_text("talvarez@district.example")
    expect(page.locator("[data-seat-summary]")).to_contain_text("5 of 5 named")
    expect(seat_list.get_by_text("not named yet")).to_have_count(0)
    audit(page, axe_source, "every seat named")
    named = [(s.attendee_name, s.attendee_email) for s in order.seats.order_by("position")][3:]
    assert named == [("Grace Kim", "gkim@district.example"), ("Tomás Álvarez", "talvarez@district.example")]


def test_without_javascript_the_server_updates_the_total_and_attendee_rows(nojs_page, axe_source):
    page = nojs_page
    page.goto(REGISTER)
    update = page.get_by_role("button", name="Update total and attendee rows")
    expect(update).to_be_visible()
    page.get_by_label("Your full name").fill("Denise Okafor")
    page.get_by_label("Number of seats").fill("5")
    update.click()

    summary = page.locator("#price-summary")
    expect(summary).to_contain_text("5 seats × $100.00")
    expect(summary.locator(".total-amount")).to_have_text("$500.00")
    expect(page.locator("[data-attendee-row]")).to_have_count(4)
    expect(page.get_by_label("Your full name")).to_have_value("Denise Okafor")
    # Updating the total is not a submission: nothing is flagged as an error yet.
    expect(page.locator(".is-invalid")).to_have_count(0)
    assert Order.objects.count() == 0


def test_buyer_who_cancels_at_checkout_comes_back_to_their_own_details(page, axe_source):
    page.goto(REGISTER)
    fill_about_you(page, name="Sam Rivera", email="sam@eastside.example", organisation="Eastside High",
                   role="School leader")
    page.get_by_label("Number of seats").fill("2")
    attendee_row(page, 1).get_by_label("Name").fill("Jordan Lee")
    attendee_row(page, 1).get_by_label("Email").fill("jordan@eastside.example")
    page.get_by_label("I need an interpreter").check()
    page.get_by_role("button", name="Continue to payment").click()

    expect(page).to_have_url(re.compile(r"/test-payment/$"))
    assert Order.objects.get().status == Order.Status.PENDING
    page.get_by_role("link", name="Cancel and go back").click()

    expect(page).to_have_url(re.compile(f"{REGISTER}\\?from="))
    expect(page.get_by_role("status")).to_contain_text("Payment cancelled and your seats released")
    expect(page.get_by_label("Your full name")).to_have_value("Sam Rivera")
    expect(page.get_by_label("Your email")).to_have_value("sam@eastside.example")
    expect(page.get_by_label("School or district")).to_have_value("Eastside High")
    expect(page.get_by_label("Your role")).to_have_value("school_leader")
    expect(page.get_by_label("Number of seats")).to_have_value("2")
    expect(page.get_by_label("I need an interpreter")).to_be_checked()
    # Attendees' details are theirs and are not copied (issue 15); the row is there to fill in again.
    expect(attendee_row(page, 1).get_by_label("Name")).to_have_value("")
    expect(page.get_by_text("Only your own details were filled in from your earlier order")).to_be_visible()
    expect(page.locator("#price-summary .total-amount")).to_have_text("$240.00")
    expect(page.get_by_text("150 seats left")).to_be_visible()
    audit(page, axe_source, "form restored after a cancelled payment")
    assert Order.objects.get().status == Order.Status.CANCELLED

    # And they can go straight on to pay with what was restored.
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/test-payment/$"))
    expect(page.locator("dl")).to_contain_text("2 × $120.00")


def test_district_pays_by_invoice_with_a_purchase_order_number(page, axe_source):
    page.goto(REGISTER)
    fill_about_you(page, name="Denise Okafor", email="dokafor@district.example", organisation="Riverside Unified",
                   role="District leader")
    page.get_by_label("Number of seats").fill("5")
    page.get_by_label("Invoice my organisation").check()
    page.get_by_role("button", name="Send the invoice").click()

    # The billing details were left out: each missing one is flagged on its own field.
    billing_name = page.get_by_label("Billing contact name")
    expect(billing_name).to_have_attribute("aria-invalid", "true")
    expect(billing_name).to_have_accessible_description(re.compile("name of the person who pays the invoice"))
    expect(page.get_by_label("ZIP or postal code")).to_have_accessible_description(re.compile("ZIP or postal code"))
    expect(page.get_by_label("Invoice my organisation")).to_be_checked()
    audit(page, axe_source, "invoice chosen, billing details missing")

    page.get_by_label("Billing contact name").fill("Accounts Payable")
    page.get_by_label("Billing contact email").fill("ap@district.example")
    page.get_by_label("Address line 1").fill("100 Main St")
    page.get_by_label("City").fill("Riverside")
    page.get_by_label("State").fill("CA")
    page.get_by_label("ZIP or postal code").fill("92501")
    page.get_by_label(re.compile("purchase.order", re.I)).first.fill("PO-2027-0042")
    page.get_by_role("button", name="Send the invoice").click()

    expect(page).to_have_url(re.compile(r"/orders/[\w-]+/"))
    screenshot(page, "order-invoice-desktop")
    audit(page, axe_source, "invoice sent, awaiting payment")
    order = Order.objects.get()
    assert (order.payment_method, order.total_cents, order.po_number) == ("invoice", 50000, "PO-2027-0042")

    expect(page.get_by_role("status")).to_contain_text("is on its way to ap@district.example")
    page.get_by_role("link", name="View and pay the invoice (test)").click()
    expect(page).to_have_url(re.compile(r"/test-invoice/$"))
    expect(page.get_by_role("note")).to_contain_text("Test invoice")
    expect(page.locator("dl")).to_contain_text("PO-2027-0042")
    expect(page.locator("dl")).to_contain_text("$500.00")
    audit(page, axe_source, "test invoice")
    page.get_by_role("button", name="Pay this test invoice ($500.00)").click()
    expect(page.get_by_role("status")).to_contain_text("Test invoice paid.")
    expect(page.locator(".status-badge")).to_contain_text("Paid")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_quotes_price_shows_while_the_seat_count_changes(page, axe_source):
    from workshops.models import Workshop

    workshop = Workshop.objects.get(slug=SLUG)
    quote = create_quote(
        workshop=workshop, contact_name="Dana Ruiz", contact_email="dana@lincoln.example",
        organisation="Lincoln Unified", seat_count=6,
    )
    workshop.price_tiers.filter(min_seats=5).update(unit_price_cents=11000)
    page.goto(f"{REGISTER}?quote={quote.reference}")
    summary = page.locator("#price-summary")
    expect(summary).to_contain_text("6 seats × $100.00")
    seats = page.get_by_label("Number of seats")
    seats.fill("7")
    expect(summary).to_contain_text("7 seats × $110.00")
    expect(summary).not_to_contain_text("your quote")
    seats.fill("6")
    expect(summary).to_contain_text("6 seats × $100.00")
    expect(summary).to_contain_text("The price per seat of your quote.")
    audit(page, axe_source, "registration from a quote, its price kept")
    screenshot(page, "register-from-quote")
