"""A hostile buyer against "one unpaid invoice request per billing address at a time" (README, "Seats are not a
free option"): the same street and ZIP written a little differently is a new address to the site."""

import pytest
from django.test import Client

from registrations.models import Order
from registrations.selectors.availability import invoice_seats_held
from tests.registrations.helpers import INVOICE_BILLING, registration_data

pytestmark = pytest.mark.django_db(transaction=True)

BILLING = {**INVOICE_BILLING, "billing_country": "US"}


def request_invoice(workshop, n: int, **billing):
    data = registration_data(seat_count=5, buyer_email=f"lead{n}@lincoln.example", **{**BILLING, **billing})
    return Client().post(f"/workshops/{workshop.slug}/register/", data)


@pytest.mark.parametrize(
    "variant",
    [
        {"billing_postal_code": "94612-0001"},
        {"billing_line1": "100 Main St."},
        {"billing_line1": "100 Main Street,"},
    ],
    ids=["zip-plus-4", "abbreviated-street", "trailing-comma"],
)
def test_the_same_billing_address_written_differently_is_still_one_request(workshop, stripe_double, variant):
    request_invoice(workshop, 1)
    assert invoice_seats_held(workshop_id=workshop.pk) == 5
    request_invoice(workshop, 2, **variant)
    # Rule: one unpaid invoice request per billing address (street line and postal code) for a workshop.
    assert Order.objects.filter(payment_method=Order.PaymentMethod.INVOICE).count() == 1
    assert invoice_seats_held(workshop_id=workshop.pk) == 5


def test_the_same_billing_address_in_other_case_and_spacing_is_refused(workshop, stripe_double):
    """What the site does normalise (and must keep doing): case and runs of spaces."""
    request_invoice(workshop, 1)
    response = request_invoice(workshop, 2, billing_line1="  100   MAIN street ", billing_postal_code=" 94612 ")
    assert "already an unpaid invoice request" in response.content.decode()
    assert Order.objects.filter(payment_method=Order.PaymentMethod.INVOICE).count() == 1
