"""The seat count as typed: a count the form refuses shows no total, "Update total" reads a count as "Continue to
payment" does, and a refused count throws away nothing typed. (An independent review found each of these.)"""

import pytest

from registrations.models import Order
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db


def register_url(workshop):
    return f"/workshops/{workshop.slug}/register/"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_a_blank_seat_count_is_refused_with_no_total_beside_it(client, workshop, value):
    data = registration_data()
    if value is None:
        del data["seat_count"]
    else:
        data["seat_count"] = value
    html = client.post(register_url(workshop), data).content.decode()
    assert 'id="error_1_id_seat_count"' in html and not Order.objects.exists()
    assert "data-total" not in html and "1 seat ×" not in html


def test_update_total_and_continue_agree_on_a_count_like_3_0(client, workshop, stripe_double):
    updated = client.post(register_url(workshop), {**registration_data(seat_count="3.0"), "update": "1"}).content.decode()
    client.post(register_url(workshop), registration_data(seat_count="3.0"))
    placed = Order.objects.exists()
    assert placed == ("data-seat-count>3</span> seats × <span data-unit-price>$120.00" in updated)
    assert placed != ("Enter a whole number" in updated)


@pytest.mark.parametrize("value", ["0", "abc", "2.5"])
def test_update_total_with_a_refused_count_keeps_the_attendees_typed(client, workshop, value):
    data = registration_data(seat_count=value, attendees=[("Ana Diaz", "ana@lincoln.example"), ("Ben Okafor", "ben@lincoln.example")])
    html = client.post(register_url(workshop), {**data, "update": "1"}).content.decode()
    assert f'value="{value}"' in html  # the count typed is kept (12cffe0)
    assert "Ana Diaz" in html and "ben@lincoln.example" in html
