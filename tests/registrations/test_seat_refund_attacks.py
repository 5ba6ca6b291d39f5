"""Attacks on pending seat refunds (a review of fdc3ef3; each failed on it): staff refund seats, Stripe's answer is
lost or Stripe errs, and its `charge.refunded` events and the worker's retries finish the refund. After every event is
delivered and the worker has run, the ledger must match Stripe per charge, and the buyer must be emailed once per refund made.

The worker is the test tasks backend: `run_worker_at(minutes)` runs, at that many minutes from now, every retry due.
"""

import pytest
from django.core import mail

from registrations.models import Order, Refund
from registrations.selectors.ledger import order_money
from tests.factories import WorkshopFactory
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
from tests.stripe_double import Fault

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def fail_the_nth_refund_request(monkeypatch, stripe_double, n: int, status: int, lost_answer: bool = False) -> None:
    """Only the n-th POST /v1/refunds from now fails (the requests before it are answered as usual)."""
    seen = []
    take = stripe_double._take_fault

    def take_fault(path, method):
        if path.startswith("/v1/refunds") and method == "POST":
            seen.append(path)
            if len(seen) == n:
                return Fault(status=status, lost_answer=lost_answer)
        return take(path, method)

    monkeypatch.setattr(stripe_double, "_take_fault", take_fault)


def buyer_refund_emails(order) -> list[str]:
    return [m.subject for m in mail.outbox if m.subject.startswith("Refund of") and order.buyer_email in m.to]


# --- 1. the ledger against Stripe ------------------------------------------------------------------------------------


def test_the_event_for_one_of_two_pending_seat_refunds_settles_the_one_stripe_never_made(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    intent, finance = order.stripe_payment_intent_id, staff("finance_a")
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe's own error: nothing made
    refund_seats_post(finance, [order.seats.get(position=2)])
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)  # made, answer lost
    refund_seats_post(finance, [order.seats.get(position=3)])
    assert Refund.objects.filter(order=order, made_at__isnull=True).count() == 2
    assert stripe_double.charge(intent)["amount_refunded"] == 12000

    post_webhook("charge.refunded", stripe_double.charge(intent))  # the event for the seat-3 refund Stripe made
    assert site_refunded(intent) == 0  # the event cannot say which refund it counts: each waits for its own answer
    run_worker_at(3)  # both retries: seat 2's is made now, seat 3's gets Stripe's replay
    post_webhook("charge.refunded", stripe_double.charge(intent))

    assert stripe_double.charge(intent)["amount_refunded"] == 24000  # each seat refunded once
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"], (
        f"ledger counts {site_refunded(intent)} refunded, Stripe holds {stripe_double.charge(intent)['amount_refunded']}"
    )
    assert_money_reconciles(stripe_double, order)


def grown_team(client, stripe_double, post_webhook) -> tuple[Order, str, str]:
    """A team of 3 at $120 grows to 5 at $100: payments $360 (first) and $140 (added)."""
    team = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    client.post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "2", "grow-payment_method": "card"})
    paid = stripe_double.pay(Order.objects.get(parent=team).stripe_checkout_session_id)
    post_webhook("checkout.session.completed", paid)
    team.refresh_from_db()
    assert (team.seat_count, team.total_cents) == (5, 50000)
    mail.outbox.clear()
    return team, team.stripe_payment_intent_id, paid["payment_intent"]


def test_a_grown_order_seat_refund_whose_second_part_failed_is_counted_in_full_by_the_first_parts_event(
    client, stripe_double, post_webhook, monkeypatch
):
    team, first, added = grown_team(client, stripe_double, post_webhook)
    fail_the_nth_refund_request(monkeypatch, stripe_double, n=2, status=500)  # $140 made, then Stripe errs on $120
    refund_seats_post(staff("finance_a"), [team.seats.get(position=n) for n in (3, 4, 5)])
    asked = [(r["params"]["payment_intent"], r["params"]["amount"]) for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert asked == [(added, "14000"), (first, "12000")]
    assert (stripe_double.charge(added)["amount_refunded"], stripe_double.charge(first)["amount_refunded"]) == (14000, 0)

    post_webhook("charge.refunded", stripe_double.charge(added))  # Stripe's event for the $140 it made
    run_worker_at(3)

    assert site_refunded(first) == stripe_double.charge(first)["amount_refunded"], (
        f"ledger counts {site_refunded(first)} refunded from the first payment, Stripe holds "
        f"{stripe_double.charge(first)['amount_refunded']}"
    )
    assert_money_reconciles(stripe_double, team)


def test_the_event_for_a_seat_refund_beside_money_owed_back_is_counted_as_the_return(client, stripe_double, post_webhook):
    team, first_paid = overpaid_addition(client, stripe_double, post_webhook, WorkshopFactory())  # $100 owed back
    owed = first_paid["payment_intent"]
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)  # made, answer lost
    refund_seats_post(staff("finance_a"), [team.seats.get(position=5)])  # $100: $20 left of that charge, $80 elsewhere
    assert stripe_double.charge(owed)["amount_refunded"] == 2000

    post_webhook("charge.refunded", stripe_double.charge(owed))  # Stripe's event for the seat refund's $20
    run_worker_at(60)  # the return's retry and the seat refund's retry
    for payment in order_money(order=team).payments:  # every charge's latest event
        post_webhook("charge.refunded", stripe_double.charge(payment.stripe_payment_intent_id))

    assert site_refunded(owed) == stripe_double.charge(owed)["amount_refunded"], (
        f"ledger counts {site_refunded(owed)} back from the overpaid charge, Stripe holds "
        f"{stripe_double.charge(owed)['amount_refunded']}"
    )
    assert_money_reconciles(stripe_double, team)


# --- 4. the buyer's email --------------------------------------------------------------------------------------------


def test_a_seat_refund_sent_again_by_staff_after_the_retries_stop_is_made_once_and_emailed(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    stripe_double.fail_next(status=500, times=100, path_prefix="/v1/refunds", method="POST")  # Stripe down for the day
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    for hour in range(1, 14):
        run_worker_at(hour * 60)
    order.refresh_from_db()
    assert "Automatic retries have stopped" in order.payment_review_note
    assert "Send pending seat refunds again" in order.payment_review_note  # what the note tells staff to do
    stripe_double.faults.clear()

    staff("finance_a").post("/admin/registrations/order/", {"action": "resend_pending_seat_refunds", "_selected_action": [order.pk]})
    run_worker_at(15 * 60)

    assert Refund.objects.get(order=order).made_at is not None
    assert [r["amount"] for r in stripe_double.refunds.values()] == [12000]
    assert_money_reconciles(stripe_double, order)
    assert len(buyer_refund_emails(order)) == 1, "the buyer was never told the seat refund was made"
