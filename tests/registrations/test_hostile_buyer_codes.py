"""A hostile buyer against discount codes: a code past its end date kept alive by renewing a hold, and a code's
"amount off the order" multiplied by splitting one team into many one-seat orders."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from registrations.models import Order, Voucher
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)


def register(client, workshop, **kwargs):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(**kwargs))


def test_a_code_that_expired_is_not_put_on_a_new_checkout_session(client, workshop, stripe_double):
    Voucher.objects.create(
        code="EARLY50", kind="percent", percent_off=50, valid_until=timezone.now() + timedelta(minutes=10)
    )
    register(client, workshop, voucher_code="EARLY50")
    order = Order.objects.get()
    assert order.total_cents == 6000
    # The buyer leaves the first session unpaid and comes back after the code ended (and the hold lapsed).
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        client.post(f"/orders/{order.token}/pay/")
    sessions = list(stripe_double.sessions.values())
    # Rule: a code is refused from its valid_until on ("This code expired on …"); a session opened after that
    # must not carry the code's discount.
    assert all(s["amount_total"] != 6000 for s in sessions[1:]), [s["amount_total"] for s in sessions]


def test_splitting_a_team_does_not_multiply_an_amount_off_the_order(workshop, stripe_double):
    Voucher.objects.create(
        code="TEAM100", kind="fixed", amount_off_cents=10000, applies_to="order", max_seats=5
    )
    # One team of 5 with the code: $500 - $100 = $400.
    for n in range(5):
        register(Client(), workshop, buyer_email=f"t{n}@lincoln.example", voucher_code="TEAM100")
    orders = Order.objects.filter(voucher__code="TEAM100")
    assert orders.count() == 5
    discount = sum(o.discount_cents for o in orders)
    # Rule: an amount off the order is taken off once for the seats the code covers (README "Codes count seats":
    # "an amount off the order, never more than those seats cost"); five seats under one code get $100 off in
    # all, not $100 off each seat.
    assert discount <= 10000, f"five one-seat orders got {discount} cents off, paying {sum(o.total_cents for o in orders)}"
