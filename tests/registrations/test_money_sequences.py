"""Sequences the money state machine (test_money_state_machine.py) once found breaking a rule, replayed step by step
so each stays fixed whatever examples hypothesis draws. After every step the machine's invariants are checked."""

import pytest

from tests.registrations import test_money_state_machine
from tests.registrations.test_money_state_machine import MoneyMachine

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outside_hypothesis(monkeypatch):
    """The machine's steps record hypothesis events; replayed by hand there is no hypothesis run to record them in."""
    monkeypatch.setattr(test_money_state_machine, "event", lambda *args: None)


def replay(machine: MoneyMachine, steps) -> None:
    try:
        machine.money_rules_hold()
        for name, kwargs in steps:
            getattr(machine, name)(**kwargs)
            machine.money_rules_hold()
            machine.the_site_and_stripe_agree_on_every_refund()
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
