"""The blank registration form's fields are rendered once and kept, so a page-cache miss stays cheap.

Links in an announcement often carry a query string (utm_source=…), which skips the page cache;
each of those visitors gets the registration page rendered anew, and its fields are most of that.
"""

import re

import pytest
from django.test import Client

from registrations.models import Quote
from tests.factories import OrderFactory
from tests.registrations.helpers import registration_data
from workshops.models import PriceTier

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def url(workshop) -> str:
    return f"/workshops/{workshop.slug}/register/"


def fields_rendered(response) -> int:
    return sum(1 for t in response.templates if t.name == "bootstrap5/field.html")


def test_a_blank_registration_form_renders_its_fields_once(workshop):
    first = Client().get(url(workshop))
    second = Client().get(url(workshop) + "?utm_source=newsletter")
    assert fields_rendered(first) > 20
    assert fields_rendered(second) == 0
    assert CSRF.sub("", second.content.decode()) == CSRF.sub("", first.content.decode())


def test_a_new_team_price_shows_on_the_next_blank_form(workshop):
    Client().get(url(workshop))
    PriceTier.objects.filter(workshop=workshop, min_seats=5).update(unit_price_cents=9000)
    html = Client().get(url(workshop)).content.decode()
    assert "$90.00 each for 5 or more seats." in html


def test_registrations_leave_the_kept_blank_form_alone_while_plenty_of_seats_are_left(workshop):
    """With more seats left than one order may hold, each registration used to key a new copy of the form."""
    workshop.capacity = 500
    workshop.save()
    Client().get(url(workshop))
    for _ in range(3):
        OrderFactory(workshop=workshop, seat_count=2)
        assert fields_rendered(Client().get(url(workshop))) == 0


def test_registrations_leave_the_kept_blank_form_alone_while_fewer_seats_are_left_than_invoices_may_hold(workshop):
    """The seats an invoice can hold just now are the seats left once those are fewer than the invoices' share: named
    on the form whatever their number, they keyed a new copy of it for every registration (make bench, +2.9 MiB)."""
    workshop.capacity, workshop.invoice_hold_percent = 1000, 100  # invoices may hold every seat
    workshop.save()
    OrderFactory(workshop=workshop, seat_count=400)
    Client().get(url(workshop))
    for _ in range(3):
        OrderFactory(workshop=workshop, seat_count=2)
        assert fields_rendered(Client().get(url(workshop))) == 0


def test_few_seats_left_limit_the_seat_field_of_the_next_blank_form(workshop):
    assert 'max="40"' in Client().get(url(workshop)).content.decode()
    OrderFactory(workshop=workshop, seat_count=37)
    html = Client().get(url(workshop)).content.decode()
    assert 'max="3"' in html and 'max="40"' not in html


def test_a_form_filled_from_a_quote_is_not_the_blank_copy(client, workshop):
    Client().get(url(workshop))
    client.post(url(workshop), {**registration_data(seat_count=6, organisation="Lincoln Unified"), "download_quote": "1"})
    quote = Quote.objects.get()
    html = client.get(f"{url(workshop)}?quote={quote.reference}").content.decode()
    assert 'value="Lincoln Unified"' in html and 'value="6"' in html


def test_a_form_sent_back_with_errors_is_not_the_blank_copy(client, workshop):
    Client().get(url(workshop))
    response = client.post(url(workshop), registration_data(buyer_email="not-an-email"))
    assert response.status_code == 400
    assert 'value="not-an-email"' in response.content.decode()
