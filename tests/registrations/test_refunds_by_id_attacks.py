"""Attacks on 988afcf (refunds settled by id: every refund the site sends names its ledger part, and a
`charge.refunded` that meets refunds of ours waiting on Stripe lists the charge's refunds). That commit listed them
before taking locks; these attacks (a stale listing, an early event replayed without one) moved the listing under the
order's lock, and made an order whose money is all back refunded whichever event or answer brings the last of it.

Each test is a sequence of events and answers. Invariants, per charge, once every answer is in and every event is
delivered: the ledger's made refunds equal Stripe's amount_refunded; no refund waits for ever; the buyer never gets
back more than they paid or more than they are owed; an order never holds more seats than the workshop has; no 500
(for staff, or a webhook that can never be processed).

The worker is the test tasks backend: `run_worker_at(minutes)` runs every retry due by then.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from registrations.models import Order, Payment, Refund, Seat, StripeEvent
from registrations.selectors.ledger import order_money
from registrations.stripe import client as stripe_client
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.registrations.test_seat_refund_attacks import fail_the_nth_refund_request, grown_team
from tests.registrations.test_refund_races import (  # noqa: F401 (no_leftover_retries: a fixture, used by every test)
    assert_money_reconciles,
    in_background,
    wait_until,
    no_leftover_retries,
    paid_team,
    refund_seats_post,
    run_worker_at,
    site_refunded,
    staff,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def deliver_until_accepted(post_webhook, event_type: str, data: dict, event_id: str, times: int = 3) -> list[int]:
    """Stripe delivers an event again (same id) while the site answers 5xx; the status codes it got."""
    codes = []
    for _ in range(times):
        codes.append(post_webhook(event_type, data, event_id=event_id).status_code)
        if codes[-1] < 500:
            break
    return codes


# --- 1. a refund event that arrived before its payment ---------------------------------------------------------------


def test_a_payment_whose_refund_event_came_first_and_that_must_be_returned_is_still_recorded(
    client, stripe_double, post_webhook
):
    workshop = WorkshopFactory(capacity=2)
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    late = Order.objects.get()
    paid = stripe_double.pay(late.stripe_checkout_session_id)  # $240 at Stripe; the webhook is held up (an outage)
    intent = paid["payment_intent"]
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 5000))  # staff give $50 back by hand
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        OrderFactory(workshop=workshop, seat_count=2, unit_price_cents=12000)  # the hold lapsed: the seats are gone
        codes = deliver_until_accepted(post_webhook, "checkout.session.completed", paid, "evt_late_payment")

    assert codes[-1] == 200, f"the payment's event answered {codes}: Stripe retries it for days, it never lands"
    assert StripeEvent.objects.filter(event_id="evt_late_payment").exists()
    assert Payment.objects.filter(stripe_payment_intent_id=intent).exists()
    run_worker_at(60)
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert stripe_double.charge(intent)["amount_refunded"] == 24000  # all of it back, once
    assert site_refunded(intent) == 24000
    assert not Refund.objects.filter(order=late, made_at__isnull=True).exists(), "a return waits for ever"


# --- 2. a listing taken before the lock, stale by the time the lock is held -------------------------------------------


def hold_first_listing(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The first GET /v1/refunds is done at Stripe at once, and its answer reaches the site only when `release` is
    set (a slow network): the listing it carries is from before whatever Stripe did meanwhile. The site lists under
    the order's lock, so whatever needs that lock meanwhile (the worker counting a refund, other events) waits."""
    real, listed, release, calls = stripe_client.list_refunds, threading.Event(), threading.Event(), []

    def slow_first(payment_intent_id):
        found = real(payment_intent_id)
        calls.append(payment_intent_id)
        if len(calls) == 1:
            listed.set()
            assert release.wait(20)
        return found

    monkeypatch.setattr(stripe_client, "list_refunds", slow_first)
    return listed, release


def test_a_stale_listing_meeting_a_newer_total_does_not_count_a_seat_refund_as_a_hand_refund(
    client, stripe_double, post_webhook, monkeypatch
):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe errs: nothing made, retried
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])  # $120, waiting on Stripe
    listed, release = hold_first_listing(monkeypatch)

    hand = stripe_double.refund_in_dashboard(intent, 5000)  # $50 by hand
    answers = []
    first = in_background(lambda: answers.append(post_webhook("charge.refunded", hand).status_code))  # lists [$50], slowly
    assert listed.wait(10)
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)
    worker = in_background(lambda: run_worker_at(3))  # the seat refund's retry: made at Stripe, the answer lost
    wait_until(lambda: len(stripe_double.requests_to("POST", "/v1/refunds")) == 2)
    second = in_background(lambda: answers.append(post_webhook("charge.refunded", stripe_double.charge(intent)).status_code))
    release.set()
    for thread in (first, worker, second):
        thread.join(20)
    assert answers == [200, 200]

    run_worker_at(60)  # the next retry gets Stripe's replay: made
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert stripe_double.charge(intent)["amount_refunded"] == 17000
    assert site_refunded(intent) == 17000, f"ledger counts {site_refunded(intent)} refunded, Stripe holds 17000"
    assert_money_reconciles(stripe_double, order)


# --- 3. the rest of the order refunded by hand beside our seat refund Stripe made ------------------------------------


def test_the_rest_refunded_by_hand_beside_a_seat_refund_whose_answer_was_lost_refunds_the_order(
    client, stripe_double, post_webhook
):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)  # made, answer lost
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])  # $120 back at Stripe; the site waits
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 12000))  # the other $120, by hand

    run_worker_at(3)  # the retry gets Stripe's replay: made
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 24000
    order.refresh_from_db()
    active = order.seats.filter(status=Seat.Status.ACTIVE).count()
    assert order_money(order=order).net_cents == 0
    assert (order.status, active) == (Order.Status.REFUNDED, 0), (
        f"every cent back, yet the order is {order.status} with {active} seat(s) active"
    )
    assert_money_reconciles(stripe_double, order)



def test_a_seat_refund_made_after_the_rest_was_refunded_by_hand_refunds_the_order(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe errs: nothing made, retried
    refund_seats_post(staff("finance_a"), [order.seats.get(position=3)])  # $120, waiting on Stripe
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 24000))  # the other two seats, by hand

    run_worker_at(3)  # the retry: made
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 36000
    order.refresh_from_db()
    active = order.seats.filter(status=Seat.Status.ACTIVE).count()
    assert (order.status, active) == (Order.Status.REFUNDED, 0), (
        f"every cent back, yet the order is {order.status} with {active} seat(s) active"
    )
    assert_money_reconciles(stripe_double, order)


def test_a_grown_order_refunded_by_hand_while_a_seat_refund_part_waits_owes_nothing_more(
    client, stripe_double, post_webhook, monkeypatch
):
    team, first, added = grown_team(client, stripe_double, post_webhook)  # $360 + $140
    fail_the_nth_refund_request(monkeypatch, stripe_double, n=2, status=500)  # $140 made, then Stripe errs on $120
    refund_seats_post(staff("finance_a"), [team.seats.get(position=n) for n in (3, 4, 5)])
    post_webhook("charge.refunded", stripe_double.charge(added))  # the $140 Stripe made
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(first, 36000))  # all the first charge, by hand

    for hour in range(1, 14):  # the $120 part's retries: Stripe refuses it (nothing left of that charge)
        run_worker_at(hour * 60)
    for intent in (first, added):
        post_webhook("charge.refunded", stripe_double.charge(intent))

    assert (site_refunded(first), site_refunded(added)) == (36000, 14000)
    assert not Refund.objects.filter(order=team, made_at__isnull=True).exists()
    team.refresh_from_db()
    assert order_money(order=team).net_cents == 0
    active = team.seats.filter(status=Seat.Status.ACTIVE).count()
    assert (team.status, active) == (Order.Status.REFUNDED, 0), (
        f"every cent back, yet the order is {team.status} with {active} seat(s) active"
    )
    assert "is owed" not in team.payment_review_note, f"staff are told to refund more: {team.payment_review_note!r}"
    assert_money_reconciles(stripe_double, team)


def test_a_listing_taken_before_our_own_refund_is_made_and_answered_still_reconciles(
    client, stripe_double, post_webhook, monkeypatch
):
    """The listing races the site's own refund: taken while our seat refund waits, answered after Stripe made it and
    the worker counted it. The hand refund is then left to the seat refund's own event, and counted once."""
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe errs: nothing made, retried
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])  # $120, waiting on Stripe
    listed, release = hold_first_listing(monkeypatch)

    hand = stripe_double.refund_in_dashboard(intent, 5000)  # $50 by hand
    answers = []
    first = in_background(lambda: answers.append(post_webhook("charge.refunded", hand).status_code))  # lists [$50], slowly
    assert listed.wait(10)
    worker = in_background(lambda: run_worker_at(3))  # the seat refund's retry: made and answered; counted once the lock frees
    wait_until(lambda: len(stripe_double.requests_to("POST", "/v1/refunds")) == 2)
    release.set()
    for thread in (first, worker):
        thread.join(20)
    assert answers == [200]
    assert Refund.objects.get(order=order, kind=Refund.Kind.SEATS).made_at is not None

    post_webhook("charge.refunded", stripe_double.charge(intent))  # the seat refund's own event
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 17000
    assert_money_reconciles(stripe_double, order)
