"""The registration page says what its main button does for the payment chosen before it is pressed: card goes on to
Stripe's page, an invoice is emailed to the billing contact at once. Without JavaScript both next steps are written
beside the button, each naming its choice; the summary beside the total links to the choice."""

import re

import pytest

from tests.factories import WorkshopFactory
from tests.registrations.helpers import INVOICE_BILLING, registration_data

pytestmark = pytest.mark.django_db

BUTTON = re.compile(r'<button[^>]*data-pay-button[^>]*data-busy-label="([^"]*)"[^>]*>([^<]*)</button>')


def register_url(workshop):
    return f"/workshops/{workshop.slug}/register/"


def pay_button(html: str) -> tuple[str, str]:
    """The main button's label and its busy label."""
    busy, label = BUTTON.search(html).groups()
    return label.strip(), busy


def next_step(html: str, method: str) -> str:
    match = re.search(rf'<p[^>]*data-next-step="{method}"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_a_blank_form_offers_card_payment_by_default(client, workshop):
    html = client.get(register_url(workshop)).content.decode()
    assert pay_button(html) == ("Continue to payment", "Placing your order…")


def test_without_javascript_the_next_step_of_each_choice_is_written_beside_the_button(client, workshop, stripe_double):
    html = client.get(register_url(workshop)).content.decode()
    summary = html[html.index("Your total"):html.index("data-pay-button")]
    assert "Pay by card now: you pay on Stripe's secure page next." in next_step(summary, "card")
    assert next_step(summary, "invoice").startswith(
        "Invoice my organisation: we email the invoice to your billing contact as soon as you press the button"
    )


def test_the_summary_links_to_the_payment_choice(client, workshop):
    html = client.get(register_url(workshop)).content.decode()
    summary = html[html.index("Your total"):html.index("data-pay-button")]
    assert '<a href="#payment-choice">Change how you pay (card or invoice)</a>' in summary
    assert 'id="payment-choice"' in html


def test_a_form_back_with_an_error_and_invoice_chosen_says_the_invoice_is_sent(client, settings, workshop,
                                                                                stripe_double):
    settings.INVOICE_HOLD_DAYS = 30
    data = registration_data(seat_count=3, **{**INVOICE_BILLING, "billing_city": ""})
    response = client.post(register_url(workshop), data)
    html = response.content.decode()
    assert response.status_code == 400 and "Enter the city." in html
    assert pay_button(html) == ("Send the invoice", "Sending the invoice…")
    assert "we email the invoice to accounts@lincoln-usd.example as soon as you press the button" in next_step(
        html, "invoice"
    )
    assert "your seats are held for 30 days, until it is due" in next_step(html, "invoice")


def test_a_form_back_with_an_error_and_card_chosen_still_continues_to_payment(client, workshop, stripe_double):
    response = client.post(register_url(workshop), registration_data(buyer_email="not-an-email"))
    assert response.status_code == 400
    assert pay_button(response.content.decode()) == ("Continue to payment", "Placing your order…")


def test_the_invoice_line_names_no_contact_when_none_is_given(client, workshop, stripe_double):
    data = registration_data(**{**INVOICE_BILLING, "billing_email": ""})
    html = client.post(register_url(workshop), data).content.decode()
    assert "we email the invoice to your billing contact" in next_step(html, "invoice")


def test_the_card_seat_limit_per_network_is_said_plainly(client, settings):
    settings.CHECKOUT_HOLD_SEATS_PER_NETWORK = 60
    html = client.get(register_url(WorkshopFactory(capacity=200))).content.decode()
    assert (
        "People paying by card from the same school or office internet connection can hold up to 60 seats between "
        "them while their payments are unfinished. For more, choose the invoice."
    ) in html
    assert "network (a school's, say)" not in html


def test_without_a_card_seat_limit_per_network_nothing_is_said_about_it(client, settings, workshop):
    settings.CHECKOUT_HOLD_SEATS_PER_NETWORK = 0
    html = client.get(register_url(workshop)).content.decode()
    assert "data-hold-rules" not in html and "internet connection" not in html
