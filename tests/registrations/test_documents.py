"""The quote PDF and the printed receipt carry the supplier's details and the session dates, and nothing on
the quote runs past its 1-inch margins (checked on the rendered PDF's character positions)."""

import io

import pytest
from pdfminer.high_level import extract_pages, extract_text
from pdfminer.layout import LTChar, LTTextContainer

from registrations.models import Voucher
from tests.factories import OrderFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 612, 792, 72
SUPPLIER = {
    "SUPPLIER_LEGAL_NAME": "Equity School Leadership LLC",
    "SUPPLIER_ADDRESS": "1234 Harbor Way, Suite 5|Oakland, CA 94607",
    "SUPPLIER_TAX_ID": "EIN 12-3456789",
    "CONTACT_EMAIL": "workshops@equity.example",
}


@pytest.fixture
def supplier(settings):
    for name, value in SUPPLIER.items():
        setattr(settings, name, value)


def download_quote(client, workshop, **kwargs):
    data = registration_data(**kwargs)
    data["download_quote"] = "1"
    response = client.post(f"/workshops/{workshop.slug}/register/", data)
    assert response["Content-Type"] == "application/pdf"
    return response.content


def characters(pdf: bytes):
    def walk(item):
        if isinstance(item, LTChar):
            yield item
        elif hasattr(item, "__iter__"):
            for child in item:
                yield from walk(child)

    for page in extract_pages(io.BytesIO(pdf)):
        yield from walk(page)


def test_the_quote_names_the_supplier_and_the_session_dates_and_times(client, workshop, supplier):
    text = extract_text(io.BytesIO(download_quote(client, workshop, seat_count=5)))
    for value in ("Equity School Leadership LLC", "1234 Harbor Way, Suite 5", "Oakland, CA 94607", "Tax ID: EIN 12-3456789",
                  "workshops@equity.example"):
        assert value in text
    for session in workshop.session_list:
        local = session.starts_at.astimezone(workshop.tz)
        assert f"{local:%A, %B} {local.day}, {local.year}, 4:00–6:00 PM Pacific Time" in text.replace("\n", " ")
    assert "on Zoom" in text


def test_nothing_on_the_quote_runs_past_the_margins_even_with_long_text(client, workshop, supplier, settings):
    settings.SITE_URL = "https://register.equity-school-leadership-workshops.example.org"
    Voucher.objects.create(code="SCHOLARSHIP-2027-SPRING-PARTNERS-WEST", kind="percent", percent_off=10)
    pdf = download_quote(
        client, workshop, seat_count=12, voucher_code="scholarship-2027-spring-partners-west",
        organisation="The Extraordinarily Long-Named Unified School District of the Greater Metropolitan Valley Region",
        buyer_name="Maximiliana Alexandra Featherstonehaugh-Worthington",
        buyer_email="maximiliana.featherstonehaugh-worthington@extraordinarily-long-district-name.k12.example.org",
    )
    chars = list(characters(pdf))
    assert len(chars) > 500
    outside = [(c.get_text(), round(c.x0), round(c.x1)) for c in chars if c.x0 < MARGIN - 0.5 or c.x1 > PAGE_WIDTH - MARGIN + 0.5]
    assert outside == []
    assert all(MARGIN - 0.5 <= c.y0 and c.y1 <= PAGE_HEIGHT - MARGIN + 0.5 for c in chars)
    text = extract_text(io.BytesIO(pdf)).replace("\n", "")
    assert "?quote=Q-" in text  # the register link is all there, wrapped rather than cut off


def test_the_printed_receipt_names_the_supplier_and_the_session_dates(client, workshop, supplier):
    order = OrderFactory(workshop=workshop, seat_count=2)
    html = client.get(f"/orders/{order.token}/").content.decode()
    receipt = html[html.index('id="receipt-heading"'):]
    for value in ("Equity School Leadership LLC", "1234 Harbor Way, Suite 5", "Tax ID: EIN 12-3456789", "workshops@equity.example"):
        assert value in receipt
    assert workshop.schedule in receipt


def test_the_test_payment_page_shows_the_dates_beside_the_total(client, workshop):
    client.post(f"/workshops/{workshop.slug}/register/", registration_data())
    from registrations.models import Order

    order = Order.objects.get()
    html = client.get(f"/orders/{order.token}/test-payment/").content.decode()
    assert workshop.schedule in html and "$120.00" in html


def test_the_stripe_product_description_carries_the_dates(client, workshop, stripe_double):
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    sent = stripe_double.requests_to("POST", "/v1/checkout/sessions")[0]["params"]
    description = sent["line_items"][0]["price_data"]["product_data"]["description"]
    assert workshop.schedule in description and "Live on Zoom" in description


def test_the_stripe_invoice_and_its_email_carry_the_dates(client, workshop, stripe_double, django_capture_on_commit_callbacks):
    from django.core import mail

    from tests.registrations.test_invoices import BILLING

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=5, **BILLING))
    invoice = stripe_double.requests_to("POST", "/v1/invoices")[0]["params"]
    (item,) = [r["params"] for r in stripe_double.requests_to("POST", "/v1/invoiceitems")]
    for description in (invoice["description"], item["description"]):
        assert workshop.schedule in description and "Live on Zoom" in description
    issued = [m for m in mail.outbox if m.subject.startswith("Invoice ")]
    assert issued and all(workshop.schedule in m.body for m in issued)
