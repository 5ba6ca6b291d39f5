"""The order page's summary counts as refunded only what was given back of what the order owed: money paid over a
grown order's price and returned is not a refund of it. (An independent review found it counted.)"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from registrations.models import Order
from tests.factories import WorkshopFactory
from tests.registrations.test_money_review import add_again_and_pay, lapsed_then_overtaken, receipt

pytestmark = pytest.mark.django_db(transaction=True)


def test_money_paid_over_the_price_and_returned_is_not_shown_as_refunded_from_the_total(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team, first = lapsed_then_overtaken(client, stripe_double, post_webhook, workshop, team_seats=3, extra=1)
    first_paid = stripe_double.pay(first.stripe_checkout_session_id)
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        add_again_and_pay(client, stripe_double, post_webhook, team, 1)
        post_webhook("checkout.session.completed", first_paid)  # joins as the fifth seat; $100 of its $120 returned
        team.refresh_from_db()
        assert receipt(client, team) == {"total": 50000, "paid": 60000, "refunded": 10000, "net": 50000}
        html = client.get(f"/orders/{team.token}/").content.decode()
    assert team.status == Order.Status.PAID and "Money on this order was refunded" not in html
    summary = re.search(r"data-order-summary>(.*?)</span>", html, re.S).group(1)
    assert summary.startswith("5 seats · $500.00") and "$100.00 refunded" not in summary
