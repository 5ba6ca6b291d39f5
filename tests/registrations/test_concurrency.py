import threading

import pytest
from django.db import connection
from django.test import Client

from registrations.models import Order
from registrations.selectors.availability import seats_taken
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_buyers_race_for_the_last_ten_seats(stripe_double):
    workshop = WorkshopFactory(capacity=30)
    OrderFactory(workshop=workshop, seat_count=20, unit_price_cents=10000)
    start = threading.Barrier(50)
    statuses: list[int] = []
    sold_out_pages = []
    lock = threading.Lock()

    def buy(n: int) -> None:
        client = Client()
        try:
            start.wait()
            response = client.post(
                f"/workshops/{workshop.slug}/register/", registration_data(buyer_email=f"buyer{n}@race.example")
            )
            with lock:
                statuses.append(response.status_code)
                if response.status_code == 200:
                    sold_out_pages.append(response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(statuses) == 50
    assert statuses.count(302) == 10  # sent to Stripe Checkout
    assert statuses.count(200) == 40  # the sold-out page with the seat alert, no error page
    assert all("This workshop is sold out" in page for page in sold_out_pages)
    assert Order.objects.filter(status=Order.Status.PENDING).count() == 10
    assert seats_taken(workshop_id=workshop.pk) == 30
    assert len(stripe_double.sessions) == 10
