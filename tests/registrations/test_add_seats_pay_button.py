"""The order page's "Grow your team" button says what pressing it does for the payment chosen, as the registration
page's does: by card "Continue to payment" (the payment page comes next), by invoice "Send the invoice" (emailed at
once). Without JavaScript the label is the one for the choice the form opens with: the order's own way of paying,
or the one posted with a mistake."""

import re

import pytest
from django.core import mail

from registrations.models import Order
from tests.registrations.helpers import registration_data
from tests.registrations.test_team_grows import INVOICE, add_seats, paid_order

# Payments are fulfilled (and emails queued) on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

GROW_BUTTON = re.compile(
    r'<section id="add-seats".*?<button[^>]*data-pay-button[^>]*data-busy-label="([^"]*)"[^>]*>([^<]*)</button>', re.S
)


def grow_button(html: str) -> tuple[str, str]:
    """The "Grow your team" form's button: its label and its busy label."""
    busy, label = GROW_BUTTON.search(html).groups()
    return label.strip(), busy


@pytest.fixture
def team(client, workshop, stripe_double, post_webhook):
    return paid_order(client, workshop, stripe_double, post_webhook)


@pytest.fixture
def invoiced_team(client, workshop, stripe_double, post_webhook):
    """A team order paid by invoice, as a finance office would."""
    billing = {k.removeprefix("grow-"): v for k, v in INVOICE.items()}
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=3, **billing))
    order = Order.objects.get(kind=Order.Kind.PURCHASE)
    post_webhook("invoice.paid", stripe_double.pay_invoice(order.stripe_invoice_id))
    order.refresh_from_db()
    assert (order.status, order.payment_method) == (Order.Status.PAID, Order.PaymentMethod.INVOICE)
    mail.outbox.clear()
    return order


def test_a_team_that_paid_by_card_is_offered_to_continue_to_payment(client, team):
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert grow_button(html) == ("Continue to payment", "Adding seats…")


def test_a_team_that_paid_by_invoice_is_offered_to_send_the_invoice(client, invoiced_team):
    html = client.get(f"/orders/{invoiced_team.token}/").content.decode()
    assert re.search(r'<input[^>]*name="grow-payment_method"[^>]*value="invoice"[^>]*checked', html)
    assert grow_button(html) == ("Send the invoice", "Sending the invoice…")


def test_the_line_saying_what_happens_next_stays_before_the_button(client, invoiced_team):
    html = client.get(f"/orders/{invoiced_team.token}/").content.decode()
    grow = html[html.index('<section id="add-seats"'):]
    assert "<strong>by invoice</strong>, we email the invoice to your billing contact straight away" in grow
    assert grow.index("data-add-seats-next") < grow.index("data-pay-button")


def test_a_form_back_with_a_mistake_and_invoice_chosen_says_the_invoice_is_sent(client, team):
    response = add_seats(client, team, 2, **{**INVOICE, "grow-billing_city": ""})
    assert response.status_code == 400 and "Enter the city." in response.content.decode()
    assert grow_button(response.content.decode()) == ("Send the invoice", "Sending the invoice…")


def test_a_form_back_with_a_mistake_and_card_chosen_still_continues_to_payment(client, invoiced_team):
    response = add_seats(client, invoiced_team, 0, **{**INVOICE, "grow-payment_method": "card"})
    assert response.status_code == 400
    assert grow_button(response.content.decode()) == ("Continue to payment", "Adding seats…")


def test_send_the_invoice_emails_the_invoice_at_once(client, team, stripe_double):
    response = add_seats(client, team, 2, **INVOICE)
    addition = Order.objects.get(parent=team)
    (customer,) = [r["params"] for r in stripe_double.requests_to("POST", "/v1/customers")]
    sent = stripe_double.requests_to("POST", f"/v1/invoices/{addition.stripe_invoice_id}/send")
    assert customer["email"] == "accounts@lincoln-usd.example" and len(sent) == 1
    opened = [r["params"].get("client_reference_id") for r in stripe_double.requests_to("POST", "/v1/checkout/sessions")]
    assert addition.reference not in opened
    assert response.status_code == 302 and response["Location"] == f"/orders/{team.token}/"
    page = client.get(response["Location"]).content.decode()
    assert f"Invoice {addition.invoice_number} is on its way to accounts@lincoln-usd.example" in page
