"""Money owed back (an overpayment returned because it was not owed) is reserved from the moment it is owed: while Stripe
refuses the return and the worker retries, seat refunds never take from it, the retry returns all of it, and the
ledger, receipt and finance CSV show it as pending, not as money already refunded. And a payment returned in full
closes its order even when another payment, under review, names the same order."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from registrations.models import Order
from registrations.selectors.ledger import order_money
from tests.factories import WorkshopFactory
from tests.registrations.helpers import refund_whole_orders
from tests.registrations.test_money_review import DATABASE_TASKS, add_seats, overpaid_addition, paid_team, receipt

pytestmark = pytest.mark.django_db(transaction=True)

FINANCE = "/admin/registrations/payment/finance/"


def given_back_at_stripe(stripe_double) -> int:
    """Everything Stripe refunded, over every charge."""
    return sum(refund["amount"] for refund in stripe_double.refunds.values())


def refund_the_whole_order(staff_client, order):
    return refund_whole_orders(staff_client, [order], follow=False)


def finance_cents(staff_client, workshop) -> dict[str, int]:
    """The finance CSV's amounts in cents, by counted / not counted."""
    response = staff_client.get(FINANCE, {"workshop": workshop.pk, "download": "1"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    sums = {"yes": 0, "no": 0}
    for row in rows:
        sums[row["Counts toward revenue"]] += round(float(row["Amount"]) * 100)
    return sums


def owed_back_while_stripe_refuses(client, stripe_double, post_webhook, workshop) -> Order:
    """A team paid $600 for 5 seats costing $500; returning the $100 fails at Stripe and the worker will retry."""
    team, _ = overpaid_addition(client, stripe_double, post_webhook, workshop)
    call_command("run_worker", "--batch")  # the worker's first try: Stripe answers 500
    assert given_back_at_stripe(stripe_double) == 0
    return team


@override_settings(TASKS=DATABASE_TASKS)
def test_refunding_seats_while_a_return_is_retried_leaves_the_money_owed_back(staff_client, client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team = owed_back_while_stripe_refuses(client, stripe_double, post_webhook, workshop)
    refund_the_whole_order(staff_client, team)  # staff refund the seats meanwhile: $500, the order's price
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        call_command("run_worker", "--batch")  # Stripe answers again: the $100 owed back goes back too
    assert given_back_at_stripe(stripe_double) == 60000  # every cent the buyer paid
    team.refresh_from_db()
    assert team.status == Order.Status.REFUNDED
    money = order_money(order=team)
    assert (money.paid_cents, money.refunded_cents, money.net_cents, money.pending_return_cents) == (60000, 60000, 0, 0)


@override_settings(TASKS=DATABASE_TASKS)
def test_a_return_stripe_has_not_taken_shows_as_pending_not_refunded(staff_client, client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team = owed_back_while_stripe_refuses(client, stripe_double, post_webhook, workshop)
    assert finance_cents(staff_client, workshop) == {"yes": 60000, "no": 0}  # nothing refunded yet
    assert receipt(client, team)["refunded"] is None
    assert "$100.00 being returned" in client.get(f"/orders/{team.token}/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        call_command("run_worker", "--batch")
        assert finance_cents(staff_client, workshop) == {"yes": 50000, "no": 0}  # refunded once Stripe took it
    assert receipt(client, team)["refunded"] == 10000
    assert "being returned" not in client.get(f"/orders/{team.token}/").content.decode()


@override_settings(TASKS=DATABASE_TASKS)
def test_a_return_made_by_hand_in_stripe_while_retried_is_counted_once(staff_client, client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team = owed_back_while_stripe_refuses(client, stripe_double, post_webhook, workshop)
    (owed,) = [p for p in order_money(order=team).accepted if p.pending_cents]
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(owed.stripe_payment_intent_id, 10000))
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        call_command("run_worker", "--batch")
    assert given_back_at_stripe(stripe_double) == 10000  # not sent a second time
    money = order_money(order=team)
    assert (money.refunded_cents, money.net_cents, money.pending_return_cents) == (10000, 50000, 0)
    assert finance_cents(staff_client, workshop) == {"yes": 50000, "no": 0}


def test_seats_that_could_not_join_are_refunded_even_with_a_payment_under_review(staff_client, client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team = paid_team(client, stripe_double, post_webhook, workshop)
    add_seats(client, team, 1)
    addition = Order.objects.get(parent=team)
    post_webhook("checkout.session.completed", {  # a Payment Link on the same account names the addition: review
        "id": "cs_link_1", "object": "checkout.session", "client_reference_id": addition.reference, "payment_status": "paid",
        "status": "complete", "amount_total": 1, "currency": "usd", "payment_intent": "pi_link_1",
    })
    refund_the_whole_order(staff_client, team)
    post_webhook("checkout.session.completed", stripe_double.pay(addition.stripe_checkout_session_id))  # cannot join
    addition.refresh_from_db()
    assert (addition.status, addition.payment_needs_review) == (Order.Status.REFUNDED, True)
    assert given_back_at_stripe(stripe_double) == 36000 + 12000  # the team's seats, and the added seat's payment
