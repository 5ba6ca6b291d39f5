"""Attacks on 4301560 (a waiting seat refund is settled by its own answer; charge.refunded only catches up with what
the ledger cannot explain). Each test is a sequence that breaks it: after every answer is in (worker run, events
delivered) the ledger's made refunds equal Stripe's amount_refunded per charge, no refund waits for ever, and an
order never holds more seats than the workshop has.

The worker is the test tasks backend: `run_worker_at(minutes)` runs every retry due by then.
"""

import pytest
from django.core import mail

from registrations.models import Order, Refund, Seat
from registrations.selectors.availability import seats_taken
from registrations.selectors.ledger import order_money
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.registrations.test_money_review import overpaid_addition
from tests.registrations.test_refund_races import (  # noqa: F401 (no_leftover_retries: a fixture, used by every test)
    assert_money_reconciles,
    no_leftover_retries,
    paid_team,
    refund_seats_post,
    run_worker_at,
    site_refunded,
    staff,
)
from tests.registrations.test_seat_refund_attacks import grown_team

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_grown_order_seat_refund_whose_second_part_stripe_refuses_outright_never_reconciles(
    client, stripe_double, post_webhook
):
    team, first, added = grown_team(client, stripe_double, post_webhook)
    dashboard = stripe_double.refund_in_dashboard(first, 36000)  # all of the first charge, by hand; event on its way
    refund_seats_post(staff("finance_a"), [team.seats.get(position=n) for n in (3, 4, 5)])
    asked = [(r["params"]["payment_intent"], r["params"]["amount"]) for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert asked == [(added, "14000"), (first, "12000")]  # $140 made; $120 refused: nothing is left of the first charge
    post_webhook("charge.refunded", dashboard)

    for hour in range(1, 14):  # every retry, until they stop: each gets the same refusal
        run_worker_at(hour * 60)
    staff("finance_a").post("/admin/registrations/order/", {"action": "resend_pending_seat_refunds", "_selected_action": [team.pk]})
    for intent in (first, added):
        post_webhook("charge.refunded", stripe_double.charge(intent))

    assert (stripe_double.charge(added)["amount_refunded"], stripe_double.charge(first)["amount_refunded"]) == (14000, 36000)
    assert not Refund.objects.filter(order=team, made_at__isnull=True).exists(), "a seat refund waits on Stripe for ever"
    assert (site_refunded(added), site_refunded(first)) == (14000, 36000), (
        f"ledger counts {site_refunded(added)} / {site_refunded(first)} refunded, Stripe holds 14000 / 36000"
    )
    assert_money_reconciles(stripe_double, team)


def test_a_refused_seat_refund_whose_seat_was_sold_again_keeps_it_cancelled_and_flags_the_money_owed(client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=2)
    order = paid_team(client, stripe_double, post_webhook, workshop)  # both seats; seat 2 is Ana's
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe's own error: nothing made, retried
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    assert "ana@lincoln.example" in [m.to[0] for m in mail.outbox]  # told her seat is cancelled

    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=1, buyer_email="lee@roosevelt.example"))
    other = Order.objects.get(buyer_email="lee@roosevelt.example")
    post_webhook("checkout.session.completed", stripe_double.pay(other.stripe_checkout_session_id))
    other.refresh_from_db()
    assert other.status == Order.Status.PAID  # the freed seat is sold again
    stripe_double.fail_next(status=400, path_prefix="/v1/refunds", method="POST")
    run_worker_at(3)  # the retry: Stripe refuses outright, the seat refund is undone

    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 0
    order.refresh_from_db()
    assert order.seats.get(position=2).status == Seat.Status.REFUNDED  # it stays cancelled: it was sold again
    assert order.payment_needs_review and "the buyer is owed" in order.payment_review_note
    active = Seat.objects.filter(order__workshop=workshop, status=Seat.Status.ACTIVE).count()
    assert seats_taken(workshop_id=workshop.pk) <= workshop.capacity, (
        f"{seats_taken(workshop_id=workshop.pk)} seats taken ({active} active) of {workshop.capacity}"
    )


def test_a_waiting_seat_refund_that_a_refund_in_stripe_dashboard_leaves_no_room_for_was_made_by_hand(
    client, stripe_double, post_webhook
):
    workshop = WorkshopFactory(capacity=2)
    order = paid_team(client, stripe_double, post_webhook, workshop)  # $240
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe's own error: nothing made, retried
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])  # $120 waits on Stripe
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 20000))  # $40 left: less than the seat
    run_worker_at(3)

    # The $200 returned by hand holds the seat's $120: Stripe is asked for nothing more, nothing is owed.
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 20000
    assert len(stripe_double.requests_to("POST", "/v1/refunds")) == 1  # the first try only
    order.refresh_from_db()
    assert order.seats.get(position=2).status == Seat.Status.REFUNDED and order.seats.get(position=1).status == Seat.Status.ACTIVE
    assert not order.payment_needs_review
    assert not Refund.objects.filter(order=order, made_at__isnull=True).exists()


def test_the_overpayment_returned_by_hand_beside_a_waiting_seat_refund_is_returned_once(
    client, stripe_double, post_webhook
):
    team, first_paid = overpaid_addition(client, stripe_double, post_webhook, WorkshopFactory())  # $100 owed back
    owed = first_paid["payment_intent"]
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe's own error: nothing made, retried
    refund_seats_post(staff("finance_a"), [team.seats.get(position=5)])  # $20: the 4 seats kept cost $480 of the $500
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(owed, 10000))  # staff return the $100 by hand

    run_worker_at(60)  # the return's retry and the seat refund's retry
    for payment in order_money(order=team).payments:
        post_webhook("charge.refunded", stripe_double.charge(payment.stripe_payment_intent_id))

    assert_money_reconciles(stripe_double, team)
    team.refresh_from_db()
    seats_refunded = team.refunded_seat_count
    back = sorted(r["amount"] for r in stripe_double.refunds.values() if r["payment_intent"] == owed)
    assert seats_refunded or back == [10000], f"no seat refunded, yet Stripe returned {back} from a charge $100 over"
    assert order_money(order=team).net_cents == (48000 if seats_refunded else team.total_cents)  # 4 seats kept: $480
