import pytest
from django.test import Client

from registrations.models import Order
from registrations.selectors.availability import seats_taken
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import register_at_once, registration_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_buyers_race_for_the_last_ten_seats(stripe_double):
    workshop = WorkshopFactory(capacity=30)
    OrderFactory(workshop=workshop, seat_count=20, unit_price_cents=10000)
    answers = register_at_once(workshop, [registration_data(buyer_email=f"buyer{n}@race.example") for n in range(50)])
    statuses = [a.status_code for a in answers]
    sold_out_pages = [a.content.decode() for a in answers if a.status_code == 200]

    assert len(statuses) == 50
    assert statuses.count(302) == 10  # sent to Stripe Checkout
    assert statuses.count(200) == 40  # the sold-out page with the seat alert, no error page
    assert all("This workshop is sold out" in page for page in sold_out_pages)
    assert Order.objects.filter(status=Order.Status.PENDING).count() == 10
    assert seats_taken(workshop_id=workshop.pk) == 30
    assert len(stripe_double.sessions) == 10


def test_racing_checkouts_from_one_network_never_hold_more_than_its_cap(stripe_double, settings):
    """Twenty browsers on one school network register at once; the cap is counted under the workshop lock."""
    settings.CHECKOUT_HOLD_SEATS_PER_NETWORK = 10
    workshop = WorkshopFactory(capacity=150)
    answers = register_at_once(
        workshop,
        [registration_data(seat_count=2, buyer_email=f"teacher{n}@school.example") for n in range(20)],
        client=lambda: Client(REMOTE_ADDR="203.0.113.5"),
    )
    statuses = [a.status_code for a in answers]
    refusals = [a.content.decode() for a in answers if a.status_code == 400]

    assert sorted(statuses) == [302] * 5 + [400] * 15
    assert all("we hold at most 10 for one network at a time" in page for page in refusals)
    pending = Order.objects.filter(workshop=workshop, status=Order.Status.PENDING)
    assert sum(pending.values_list("seat_count", flat=True)) == 10
    assert len({order.hold_source for order in pending}) == 1
    assert len(stripe_double.sessions) == 5
