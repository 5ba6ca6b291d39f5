"""Sequences the money state machine (money_machine/, run by test_money_state_machine.py) once found breaking a rule,
replayed step by step so each stays fixed whatever examples hypothesis draws. After every step the machine's
invariants are checked."""

import re

import pytest
from django.core import mail

from registrations.models import Order
from registrations.services import seat_refunds
from tests.registrations.money_machine import MoneyMachine, rules

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outside_hypothesis(monkeypatch):
    """The machine's steps record hypothesis events; replayed by hand there is no hypothesis run to record them in."""
    monkeypatch.setattr(rules, "event", lambda *args: None)


def replay(machine: MoneyMachine, steps, then=None) -> None:
    """Run the steps (the machine's rules by name, or a callable: something outside the site changed), checking the
    machine's invariants after each, then `then(machine)` (what people read)."""
    try:
        machine.money_rules_hold()
        for step in steps:
            if callable(step):
                step()
            else:
                getattr(machine, step[0])(**step[1])
            machine.money_rules_hold()
            machine.the_site_and_stripe_agree_on_every_refund()
        if then is not None:
            then(machine)
    finally:
        machine.teardown()


def paid_order(invoice: bool, seats: int) -> list:
    return [("register", {"invoice": invoice, "seats": seats, "code": None}),
            ("invoice_is_paid_or_voided", {"index": 0, "paid": True}) if invoice
            else ("checkout_completes", {"index": 0, "delayed": False})]


@pytest.mark.parametrize("invoice", [True, False], ids=["invoice", "card"])
@pytest.mark.parametrize(("seats", "refunded", "share"), [(1, 1, 1), (2, 1, 1), (3, 2, 1), (3, 1, 2), (2, 1, 4)])
def test_a_seat_refund_waiting_on_stripe_then_a_refund_in_stripe_dashboard(stripe_double, invoice, seats, refunded, share):
    """Stripe errs on a seat refund (it waits, the worker retries), then staff refund all or part of what the charge
    has left in Stripe's dashboard, and Stripe's events and the worker's retry follow: the ledger never counts more
    refunded and reserved than was paid, and ends agreeing with Stripe to the cent."""
    machine = MoneyMachine(stripe_double)
    replay(machine, paid_order(invoice, seats) + [
        ("stripe_refuses_a_refund_once", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": refunded}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": share}),
        ("stripe_reports_a_charge_refunded", {"index": 0}),
        ("the_worker_retries", {}),
        ("stripe_reports_a_charge_refunded", {"index": 0}),
    ])


def grown_order() -> list:
    """A team of two paid by card (one charge of $240) grows by one seat, paid by card (a second charge of $120)."""
    return paid_order(False, 2) + [("team_grows_paying_by_card", {"index": 0, "extra": 1}),
                                   ("checkout_completes", {"index": 0, "delayed": False})]


@pytest.mark.parametrize(("seats", "share"), [(1, 1), (2, 4)], ids=["whole", "part"])
def test_a_dashboard_refund_that_settled_a_waiting_seat_refund_then_fails(stripe_double, seats, share):
    """A dashboard refund settles a seat refund waiting on Stripe, then fails at Stripe (refund.failed): what it
    settled stops counting as made, so the ledger never counts more refunded than Stripe holds."""
    machine = MoneyMachine(stripe_double)
    replay(machine, paid_order(False, seats) + [
        ("stripe_refuses_a_refund_once", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": seats}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": share}),
        ("a_refund_fails_at_stripe", {"index": 0}),
        ("the_worker_retries", {}),
    ] + ([("stripe_reports_a_charge_refunded", {"index": 0})] if share != 1 else []))  # whole: nothing is refunded now


def test_a_grown_orders_seat_refund_with_a_lost_answer_then_the_first_charge_refunded_in_the_dashboard(stripe_double):
    """A grown order's seat refund: the part on the new charge made with its answer lost, the part on the first charge
    settled by a dashboard refund; the retry sends the first part again under its own key, so Stripe replays it."""
    machine = MoneyMachine(stripe_double)
    replay(machine, grown_order() + [
        ("stripe_loses_its_answer_to_the_next_refund", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": 2}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": 1}),
        ("the_worker_retries", {}),
        ("stripe_reports_a_charge_refunded", {"index": 1}),
    ])


@pytest.mark.parametrize("lost", [False, True], ids=["not made", "answer lost"])
@pytest.mark.parametrize("share", [1, 4])
def test_a_grown_orders_seat_refund_half_made_then_the_first_charge_refunded_in_the_dashboard(stripe_double, lost, share):
    """The part from the new charge is made, the part from the first errs (not made, or made with its answer lost),
    then staff refund all or a quarter of the first charge in Stripe's dashboard and the worker retries."""
    machine = MoneyMachine(stripe_double)
    replay(machine, grown_order() + [
        ("stripe_answers_one_refund_then_errs_on_the_next", {"lost": lost}),
        ("staff_refund_seats", {"index": 0, "count": 2}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": share}),
        ("the_worker_retries", {}),
        ("stripe_reports_a_charge_refunded", {"index": 0}),
        ("stripe_reports_a_charge_refunded", {"index": 1}),
    ])


def test_staff_send_a_partly_settled_seat_refund_again_before_the_worker(stripe_double):
    """A $240 seat refund waits; a $60 dashboard refund settles part of it; staff send the rest again from the Orders
    list, and the worker's retry then finds nothing waiting."""
    machine = MoneyMachine(stripe_double)
    replay(machine, paid_order(False, 2) + [
        ("stripe_refuses_a_refund_once", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": 2}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": 4}),
        ("staff_send_pending_seat_refunds_again", {"index": 0}),
        ("the_worker_retries", {}),
        ("stripe_reports_a_charge_refunded", {"index": 0}),
    ])


def test_two_dashboard_refunds_in_a_row_while_a_seat_refund_waits_and_the_old_total_arrives_last(stripe_double):
    """The first dashboard refund leaves room for the waiting seat refund, the second does not; then the first
    refund's event (the old total) arrives again, before and after the worker's retry."""
    machine = MoneyMachine(stripe_double)
    replay(machine, paid_order(False, 2) + [
        ("stripe_refuses_a_refund_once", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": 1}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": 2}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": 2}),
        ("stripe_sends_an_event_again", {"index": 2, "same_id": False}),
        ("the_worker_retries", {}),
        ("stripe_sends_an_event_again", {"index": 2, "same_id": False}),
    ])


def buyer_is_told_all_that_went_back(machine: MoneyMachine) -> None:
    told = sum(int(m.group(1).replace(",", "").replace(".", "")) for m in (
        re.match(r"Refund of \$([\d,]+\.\d\d):", message.subject) for message in mail.outbox) if m)
    assert told == machine.double.charge(next(iter(machine.double.intents)))["amount_refunded"]


def test_the_buyer_is_told_of_a_seat_refund_a_dashboard_refund_settled(stripe_double):
    """A $240 dashboard refund settles a waiting $120 seat refund and is $120 more: the buyer is emailed both."""
    machine = MoneyMachine(stripe_double)
    replay(machine, paid_order(False, 2) + [
        ("stripe_refuses_a_refund_once", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": 1}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": 1}),
        ("the_worker_retries", {}),
    ], then=buyer_is_told_all_that_went_back)


def staff_read_no_empty_dashboard_refund(machine: MoneyMachine) -> None:
    order = Order.objects.get()
    page = machine.as_staff().get(f"/admin/registrations/order/{order.pk}/change/").content.decode()
    assert "Partial refund of $0.00" not in page


def test_staff_read_no_partial_refund_of_nothing(stripe_double):
    """A dashboard refund used up by the seat refund it settles leaves no "Partial refund of $0.00" note."""
    machine = MoneyMachine(stripe_double)
    replay(machine, paid_order(False, 1) + [
        ("stripe_refuses_a_refund_once", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": 1}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": 1}),
    ], then=staff_read_no_empty_dashboard_refund)


def test_a_seat_refund_sent_by_the_release_before_and_retried_by_this_one(stripe_double, monkeypatch):
    """The release before named the key without the amount (monkeypatched back for the first request only)."""
    new_key = seat_refunds._seat_refund_key
    monkeypatch.setattr(seat_refunds, "_seat_refund_key", lambda refund: f"refund-{refund.order.reference}-{refund.pk}")
    machine = MoneyMachine(stripe_double)
    replay(machine, paid_order(False, 2) + [
        ("stripe_loses_its_answer_to_the_next_refund", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": 1}),
        lambda: monkeypatch.setattr(seat_refunds, "_seat_refund_key", new_key),  # this release is deployed
        ("the_worker_retries", {}),
        ("stripe_reports_a_charge_refunded", {"index": 0}),
    ])


def the_first_charge_gave_back_the_seats_share(machine: MoneyMachine) -> None:
    first = next(iter(machine.double.intents))
    assert machine.double.charge(first)["amount_refunded"] == 24000  # $180 by hand, then the $60 left by the worker


def test_a_grown_orders_half_made_seat_refund_partly_settled_then_retried(stripe_double):
    """A grown order's $360 seat refund, $120 made on the new charge, $240 waiting on the first, $180 of which is
    refunded in the dashboard: the $60 left is still sent, and the made part is not sent again."""
    machine = MoneyMachine(stripe_double)
    replay(machine, paid_order(False, 3) + [
        ("team_grows_paying_by_card", {"index": 0, "extra": 1}),
        ("checkout_completes", {"index": 0, "delayed": False}),
        ("stripe_answers_one_refund_then_errs_on_the_next", {"lost": False}),
        ("staff_refund_seats", {"index": 0, "count": 3}),
        ("refund_in_stripe_dashboard", {"index": 0, "share": 2}),
        ("the_worker_retries", {}),
        ("stripe_reports_a_charge_refunded", {"index": 0}),
    ], then=the_first_charge_gave_back_the_seats_share)


def test_a_refused_seat_refund_restores_seats_whose_code_another_buyer_took(stripe_double):
    """A seat refund waiting on Stripe frees its order's FREE seats (the order is refunded), another buyer takes both
    with a free order, then Stripe refuses the retry: the seats stay cancelled (the buyer is owed the money), never
    restored on a code already used up."""
    machine = MoneyMachine(stripe_double)
    replay(machine, [
        ("register", {"invoice": False, "seats": 3, "code": "FREE"}),
        ("checkout_completes", {"index": 0, "delayed": False}),
        ("stripe_refuses_a_refund_once", {"status": 500}),
        ("staff_refund_seats", {"index": 0, "count": 3}),
        ("register", {"invoice": False, "seats": 2, "code": "FREE"}),
        ("stripe_refuses_a_refund_once", {"status": 400}),
        ("the_worker_retries", {}),
    ])
