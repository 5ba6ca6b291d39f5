import re
from datetime import timedelta

import pytest
import time_machine

from registrations.models import Order, Quote, Voucher
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)


def pdf_text(content: bytes) -> str:
    """The strings drawn on the page (the quote PDF is written uncompressed)."""
    return " ".join(m.decode("latin-1") for m in re.findall(rb"\((.*?)\) Tj", content))


def download_quote(client, workshop, **kwargs):
    data = registration_data(**kwargs)
    data["download_quote"] = "1"
    return client.post(f"/workshops/{workshop.slug}/register/", data)


def test_quote_pdf_states_organisation_seats_tier_total_and_validity(client, workshop):
    response = download_quote(client, workshop, seat_count=5, organisation="Lincoln Unified")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    quote = Quote.objects.get()
    assert f'filename="quote-{quote.reference}.pdf"' in response["Content-Disposition"]
    text = pdf_text(response.content)
    assert "Lincoln Unified" in text
    assert "5 seats \\327 $100.00 (team price)" in text or "5 seats" in text
    assert "$500.00" in text
    assert quote.reference in text and "Valid until" in text
    assert not Order.objects.exists()


def test_quote_includes_a_valid_discount_code(client, workshop):
    Voucher.objects.create(code="HALF", kind="percent", percent_off=50)
    response = download_quote(client, workshop, seat_count=2, voucher_code="half")
    text = pdf_text(response.content)
    assert "Code HALF" in text and "-$120.00" in text and "$120.00" in text
    assert Quote.objects.get().total_cents == 12000


def test_quote_with_bad_code_gets_a_message_beside_the_field(client, workshop):
    response = download_quote(client, workshop, voucher_code="NOPE")
    assert response.status_code == 400
    assert "This code is not valid" in response.content.decode()
    assert not Quote.objects.exists()


def test_quote_needs_the_contact_details(client, workshop):
    response = download_quote(client, workshop, buyer_email="")
    assert response.status_code == 400
    assert not Quote.objects.exists()


def test_order_placed_from_a_quote_matches_its_figures(client, workshop, stripe_double):
    download_quote(client, workshop, seat_count=6, organisation="Lincoln Unified")
    quote = Quote.objects.get()
    form = client.get(f"/workshops/{workshop.slug}/register/?quote={quote.reference.lower()}").content.decode()
    assert 'value="Lincoln Unified"' in form and 'value="6"' in form and f'value="{quote.reference}"' in form
    client.post(
        f"/workshops/{workshop.slug}/register/",
        registration_data(seat_count=6, organisation="Lincoln Unified", quote_reference=quote.reference),
    )
    order = Order.objects.get()
    assert order.quote == quote
    assert (order.seat_count, order.unit_price_cents, order.tier_min_seats, order.total_cents) == (
        quote.seat_count, quote.unit_price_cents, quote.tier_min_seats, quote.total_cents,
    )
    assert stripe_double.sessions[order.stripe_checkout_session_id]["amount_total"] == quote.total_cents


def team_price_becomes(workshop, cents: int) -> None:
    workshop.price_tiers.filter(min_seats=5).update(unit_price_cents=cents)


def order_from_quote(client, workshop, quote, seat_count):
    return client.post(
        f"/workshops/{workshop.slug}/register/",
        registration_data(seat_count=seat_count, organisation="Lincoln Unified", quote_reference=quote.reference),
    )


def test_a_quote_keeps_its_price_after_prices_rise(client, workshop, stripe_double):
    download_quote(client, workshop, seat_count=6, organisation="Lincoln Unified")
    quote = Quote.objects.get()
    team_price_becomes(workshop, 11000)
    form = client.get(f"/workshops/{workshop.slug}/register/?quote={quote.reference}").content.decode()
    assert "$600.00" in form and f"The price per seat of your quote {quote.reference}" in form
    order_from_quote(client, workshop, quote, 6)
    order = Order.objects.get()
    assert (order.unit_price_cents, order.total_cents) == (10000, 60000)
    assert stripe_double.sessions[order.stripe_checkout_session_id]["amount_total"] == 60000


def test_a_price_cut_reaches_a_district_holding_a_quote(client, workshop, stripe_double):
    download_quote(client, workshop, seat_count=6)
    team_price_becomes(workshop, 9000)
    order_from_quote(client, workshop, Quote.objects.get(), 6)
    assert Order.objects.get().total_cents == 54000


def test_a_quoted_price_holds_only_for_the_seats_quoted(client, workshop, stripe_double):
    download_quote(client, workshop, seat_count=6)
    team_price_becomes(workshop, 11000)
    order_from_quote(client, workshop, Quote.objects.get(), 7)
    assert Order.objects.get().total_cents == 77000


def test_a_quote_past_its_date_gets_todays_price(client, workshop, stripe_double):
    download_quote(client, workshop, seat_count=6)
    quote = Quote.objects.get()
    team_price_becomes(workshop, 11000)
    with time_machine.travel(quote.valid_until + timedelta(minutes=1)):
        order_from_quote(client, workshop, quote, 6)
    assert Order.objects.get().total_cents == 66000


def test_seats_added_to_an_order_from_a_quote_keep_the_quotes_price(client, workshop, stripe_double, post_webhook):
    download_quote(client, workshop, seat_count=6)
    team_price_becomes(workshop, 11000)
    order_from_quote(client, workshop, Quote.objects.get(), 6)
    order = Order.objects.get()
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    page = client.get(f"/orders/{order.token}/").content.decode()
    assert "1 more seat: $100.00" in page
    client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": "1"})
    assert Order.objects.get(parent=order).total_cents == 10000
