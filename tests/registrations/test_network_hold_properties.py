"""For any sequence of card registrations from a few networks, with checkouts paid, cancelled, renewed and lapsing
as time passes: no network's unpaid card checkouts ever hold more than the cap, paid seats plus live holds never
exceed capacity, and each registration is accepted exactly when both rules allow it (worked out here, not by the
code under test)."""

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db.models import F, Sum
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from registrations.models import Order
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db

NETWORKS = ("203.0.113.5", "2001:db8:1:2::10")
CAP, CAPACITY = 5, 12
HOLD = timedelta(minutes=31)


@dataclass
class Placed:
    token: str
    network: int
    seats: int
    expires_at: datetime
    status: str = "pending"


def run_machine(stripe_double, post_webhook):
    class NetworkHolds(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.traveller = time_machine.travel(timezone.now(), tick=False)
            self.clock = self.traveller.start()
            self.workshop = WorkshopFactory(capacity=CAPACITY)
            self.client = Client()
            self.placed: list[Placed] = []
            self.emails = 0

        def teardown(self):
            self.traveller.stop()

        def _now(self) -> datetime:
            return timezone.now()

        def _live(self, order: Placed) -> bool:
            return order.status == "pending" and order.expires_at > self._now()

        def _held_by(self, network: int) -> int:
            return sum(o.seats for o in self.placed if o.network == network and self._live(o))

        def _taken(self) -> int:
            return sum(o.seats for o in self.placed if o.status == "paid" or self._live(o))

        @rule(network=st.integers(0, len(NETWORKS) - 1), seats=st.integers(1, 4))
        def register(self, network, seats):
            self.emails += 1
            fits_capacity = seats <= CAPACITY - self._taken()
            fits_cap = self._held_by(network) + seats <= CAP
            data = registration_data(seat_count=seats, buyer_email=f"t{self.emails}@school.example")
            response = self.client.post(
                f"/workshops/{self.workshop.slug}/register/", data, REMOTE_ADDR=NETWORKS[network]
            )
            html = response.content.decode()
            if fits_capacity and fits_cap:
                assert response.status_code == 302
                order = Order.objects.get(workshop=self.workshop, buyer_email=f"t{self.emails}@school.example")
                self.placed.append(Placed(order.token, network, seats, self._now() + HOLD))
            else:
                assert response.status_code in (200, 400)
                assert not Order.objects.filter(workshop=self.workshop, buyer_email=f"t{self.emails}@school.example").exists()
                if fits_capacity:
                    assert f"we hold at most {CAP} for one network at a time" in html

        @precondition(lambda self: any(self._live(o) for o in self.placed))
        @rule(data=st.data())
        def pay(self, data):
            order = data.draw(st.sampled_from([o for o in self.placed if self._live(o)]))
            session_id = Order.objects.get(token=order.token).stripe_checkout_session_id
            post_webhook("checkout.session.completed", stripe_double.pay(session_id))
            assert Order.objects.get(token=order.token).status == Order.Status.PAID
            order.status = "paid"

        @precondition(lambda self: any(o.status == "pending" for o in self.placed))
        @rule(data=st.data())
        def cancel_at_stripe(self, data):
            order = data.draw(st.sampled_from([o for o in self.placed if o.status == "pending"]))
            self.client.get(f"/orders/{order.token}/cancel/")
            assert Order.objects.get(token=order.token).status in (Order.Status.CANCELLED, Order.Status.EXPIRED)
            order.status = "cancelled"

        @precondition(lambda self: any(o.status == "pending" for o in self.placed))
        @rule(data=st.data())
        def continue_to_payment(self, data):
            """Renewing is re-checked under the lock; the invariants below say whether it ever overreached."""
            order = data.draw(st.sampled_from([o for o in self.placed if o.status == "pending"]))
            self.client.post(f"/orders/{order.token}/pay/", REMOTE_ADDR=NETWORKS[order.network])
            order.expires_at = Order.objects.get(token=order.token).hold_expires_at

        @rule(minutes=st.sampled_from([1, 10, 25, 32, 45]))
        def time_passes(self, minutes):
            self.clock.shift(timedelta(minutes=minutes))

        @invariant()
        def no_network_holds_more_than_the_cap(self):
            held = (
                Order.objects.filter(workshop=self.workshop, payment_method="card", status="pending",
                                     hold_expires_at__gt=self._now())
                .values("hold_source")
                .annotate(n=Sum(F("seat_count") - F("refunded_seat_count")))
            )
            assert all(row["n"] <= CAP for row in held)
            assert all(self._held_by(network) <= CAP for network in range(len(NETWORKS)))

        @invariant()
        def capacity_is_never_exceeded(self):
            rows = Order.objects.filter(workshop=self.workshop).values_list("status", "hold_expires_at", "seat_count")
            taken = sum(n for status, expires, n in rows if status == "paid" or (status == "pending" and expires > self._now()))
            assert taken <= CAPACITY
            assert taken == self._taken()

    run_state_machine_as_test(
        NetworkHolds,
        settings=settings(
            max_examples=int(os.environ.get("NETWORK_HOLD_EXAMPLES", "30")), stateful_step_count=20, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_no_network_ever_holds_more_than_the_cap_and_capacity_holds(stripe_double, post_webhook, settings):
    settings.CHECKOUT_HOLD_SEATS_PER_NETWORK = CAP
    run_machine(stripe_double, post_webhook)
