"""Attacks on 490738d (`refund.failed` handled; `charge.refunded` lists the charge's refunds under the order's lock;
an order whose money is all back is refunded whichever event or answer brings the last of it).

Each test is a sequence of events and answers. Invariants, per charge, once every answer is in and every event is
delivered: the ledger's made refunds equal Stripe's amount_refunded (failed refunds excluded); no refund waits for
ever; no "Refund of $0.00" email; the buyer never has more back than paid; seats never exceed capacity; no 500 for
staff or for a webhook that can never succeed; an order is refunded only when its money is really all back (or a
failure was flagged).

The worker is the test tasks backend: `run_worker_at(minutes)` runs every retry due by then.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from registrations.models import Order, Payment, Refund, StripeEvent
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.registrations.test_money_review import add_again_and_pay, lapsed_then_overtaken
from tests.registrations.test_refund_failed import the_refund_of
from tests.registrations.test_seat_refund_attacks import fail_the_nth_refund_request, grown_team
from tests.registrations.test_refund_races import (  # noqa: F401 (no_leftover_retries: a fixture, used by every test)
    assert_money_reconciles,
    no_leftover_retries,
    paid_team,
    refund_seats_post,
    run_worker_at,
    site_refunded,
    staff,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def ours(stripe_double, intent: str) -> str:
    """The id of the refund of `intent` the site sent (it names a ledger part)."""
    return next(r["id"] for r in stripe_double.refunds.values()
                if r["payment_intent"] == intent and r["metadata"].get("ledger_part"))


def zero_emails() -> list[str]:
    return [m.subject for m in mail.outbox if m.subject.startswith("Refund of $0.00")]


# --- 1. a failed hand refund beside a refund of ours Stripe holds and the ledger still waits on ---------------------


def test_a_failed_hand_refund_beside_our_waiting_seat_refund_stripe_holds_is_taken_out(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    hand = stripe_double.refund_in_dashboard(intent, 5000)
    post_webhook("charge.refunded", hand)  # $50 by hand, recorded by amount
    hand_id = the_refund_of(stripe_double, intent, 5000)
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)  # made, answer lost
    # $190 kept; the seat kept costs $120, so $70 at Stripe; the ledger waits
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])

    post_webhook("refund.failed", stripe_double.fail_refund(hand_id))  # the $50 hand refund fails
    run_worker_at(3)  # the seat refund's retry gets Stripe's replay: made
    post_webhook("charge.refunded", stripe_double.charge(intent))

    assert stripe_double.charge(intent)["amount_refunded"] == 7000
    assert site_refunded(intent) == 7000, f"ledger counts {site_refunded(intent)} refunded, Stripe holds 7000"
    assert_money_reconciles(stripe_double, order)


# --- 2. money owed back, returned by hand, and that hand refund fails ----------------------------------------------


def overpaid_addition_pending(client, stripe_double, post_webhook, *, lost_answer: bool) -> tuple[Order, str]:
    """A fourth seat paid at $120 whose late webhook makes it the fifth ($20): $100 is owed back from that charge,
    and Stripe's first answer to the return is an error (with `lost_answer`, Stripe made it). Returns the team and
    the overpaid charge."""
    team, first = lapsed_then_overtaken(client, stripe_double, post_webhook, WorkshopFactory(), team_seats=3, extra=1)
    first_paid = stripe_double.pay(first.stripe_checkout_session_id)
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        add_again_and_pay(client, stripe_double, post_webhook, team, 1)
        stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=lost_answer)
        assert post_webhook("checkout.session.completed", first_paid).status_code == 200
    owed = first_paid["payment_intent"]
    assert Refund.objects.filter(kind=Refund.Kind.RETURNED, made_at__isnull=True).count() == 1
    return team, owed


def test_money_owed_back_returned_by_hand_whose_refund_then_fails_is_taken_out(client, stripe_double, post_webhook):
    team, owed = overpaid_addition_pending(client, stripe_double, post_webhook, lost_answer=False)
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(owed, 10000))  # staff return the $100 by hand
    assert site_refunded(owed) == 10000
    hand_id = the_refund_of(stripe_double, owed, 10000)

    post_webhook("refund.failed", stripe_double.fail_refund(hand_id))
    run_worker_at(60)
    post_webhook("charge.refunded", stripe_double.charge(owed))

    assert site_refunded(owed) == stripe_double.charge(owed)["amount_refunded"], (
        f"ledger counts {site_refunded(owed)} back, Stripe holds {stripe_double.charge(owed)['amount_refunded']}"
    )
    team.refresh_from_db()
    assert team.payment_needs_review


# --- 3. a return whose answer was lost, and that failed before the worker's retry -----------------------------------


def test_a_return_whose_answer_was_lost_and_that_then_failed_is_not_reserved_again(client, stripe_double, post_webhook):
    team, owed = overpaid_addition_pending(client, stripe_double, post_webhook, lost_answer=True)  # $100 made at Stripe
    post_webhook("refund.failed", stripe_double.fail_refund(ours(stripe_double, owed)))
    asked = len(stripe_double.requests_to("POST", "/v1/refunds"))

    for hour in range(1, 14):  # every retry the worker would make
        run_worker_at(hour * 60)
    post_webhook("charge.refunded", stripe_double.charge(owed))

    assert not Refund.objects.filter(made_at__isnull=True).exists(), "a return waits for ever"
    assert len(stripe_double.requests_to("POST", "/v1/refunds")) == asked, "a failed refund is sent again"
    assert site_refunded(owed) == stripe_double.charge(owed)["amount_refunded"] == 0
    team.refresh_from_db()
    assert team.payment_needs_review


# --- 4. a refund failure delivered while its payment is not in the ledger yet -------------------------------------


def late_purchase_paid(client, stripe_double) -> tuple[Order, dict]:
    workshop = WorkshopFactory()
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    order = Order.objects.get()
    return order, stripe_double.pay(order.stripe_checkout_session_id)  # $240 at Stripe; its webhook is held up


def test_a_refund_failure_reported_before_its_payment_is_not_lost(client, stripe_double, post_webhook):
    order, paid = late_purchase_paid(client, stripe_double)
    intent = paid["payment_intent"]
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 5000))  # $50 by hand, event early
    post_webhook("refund.failed", stripe_double.fail_refund(the_refund_of(stripe_double, intent, 5000)))  # early too

    assert post_webhook("checkout.session.completed", paid).status_code == 200  # the payment lands

    assert Payment.objects.filter(stripe_payment_intent_id=intent).exists()
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 0, (
        f"ledger counts {site_refunded(intent)} refunded, Stripe holds 0"
    )
    order.refresh_from_db()
    assert order.payment_needs_review, "staff are never told the refund failed"


# --- 5. a part of a grown order's seat refund fails, then Stripe refuses the rest ----------------------------------


def test_a_failed_part_and_a_refused_part_send_no_zero_refund_email(client, stripe_double, post_webhook, monkeypatch):
    team, first, added = grown_team(client, stripe_double, post_webhook)  # $360 + $140
    fail_the_nth_refund_request(monkeypatch, stripe_double, n=2, status=500)  # $140 made, then Stripe errs on $120
    refund_seats_post(staff("finance_a"), [team.seats.get(position=n) for n in (3, 4, 5)])
    post_webhook("charge.refunded", stripe_double.charge(added))
    post_webhook("refund.failed", stripe_double.fail_refund(ours(stripe_double, added)))  # the $140 fails
    mail.outbox.clear()

    stripe_double.fail_next(status=400, path_prefix="/v1/refunds", method="POST")  # Stripe refuses the $120 outright
    run_worker_at(3)
    for intent in (first, added):
        post_webhook("charge.refunded", stripe_double.charge(intent))

    assert zero_emails() == [], f"the buyer is emailed {zero_emails()}"
    assert (site_refunded(first), site_refunded(added)) == (0, 0)
    assert_money_reconciles(stripe_double, team)


# --- 6. a malformed refund ------------------------------------------------------------------------------------------


def test_a_refund_failure_with_odd_ledger_part_metadata_does_not_500_for_ever(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.refund_in_dashboard(intent, 5000)
    hand_id = the_refund_of(stripe_double, intent, 5000)
    stripe_double.refunds[hand_id]["metadata"] = {"ledger_part": "\u00b2"}  # staff typed it in the dashboard
    failed = stripe_double.fail_refund(hand_id)

    codes = [post_webhook("refund.failed", failed, event_id="evt_odd").status_code for _ in range(3)]

    assert codes[-1] == 200, f"answered {codes}: Stripe retries it for days"
    assert StripeEvent.objects.filter(event_id="evt_odd").exists()


# --- 7. a seat refund that fails while staff's request still waits on Stripe's answer -----------------------------


def test_a_seat_refund_that_fails_before_staff_get_stripes_answer_sends_no_zero_email(client, stripe_double, post_webhook):
    from tests.registrations.test_refund_races import staff_refund_held_at_stripe

    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    staff_thread = staff_refund_held_at_stripe(stripe_double, order, order.seats.get(position=2), made=True)
    assert post_webhook("refund.failed", stripe_double.fail_refund(ours(stripe_double, intent))).status_code == 200
    stripe_double.end_hang()
    staff_thread.join(30)
    post_webhook("charge.refunded", stripe_double.charge(intent))

    assert zero_emails() == [], f"the buyer is emailed {zero_emails()}"
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 0
    assert_money_reconciles(stripe_double, order)


# --- 8. staff refund the order after a hand refund failed ----------------------------------------------------------


def test_refunding_the_order_after_a_failed_hand_refund_does_not_also_leave_it_owed(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 5000))  # $50 goodwill, by hand
    post_webhook("refund.failed", stripe_double.fail_refund(the_refund_of(stripe_double, intent, 5000)))
    from tests.registrations.test_refund_races import refund_order_post

    refund_order_post(staff("finance_a"), order)  # the buyer cancels: staff refund the whole order
    post_webhook("charge.refunded", stripe_double.charge(intent))

    order.refresh_from_db()
    payment = Payment.objects.get(stripe_payment_intent_id=intent)
    back = stripe_double.charge(intent)["amount_refunded"]
    latest = order.payment_review_note.splitlines()[-1]  # staff act on the newest line of the note
    owed = payment.stripe_refund_failed_cents if "nothing more is owed" not in latest else 0
    assert back + owed <= payment.amount_cents, (
        f"Stripe returned {back} and staff are told to pay {owed} more, of {payment.amount_cents} paid"
    )
    assert_money_reconciles(stripe_double, order)


# --- kept passing: what the site asks Stripe for after a part of a grown order's refund failed ----------------------


def test_a_whole_order_refund_after_a_failed_part_asks_each_charge_for_what_is_left(client, stripe_double, post_webhook):
    from tests.registrations.test_refund_races import refund_order_post

    team, first, added = grown_team(client, stripe_double, post_webhook)  # $360 + $140
    refund_seats_post(staff("finance_a"), [team.seats.get(position=n) for n in (3, 4, 5)])  # $140 + $120: the 2 seats kept cost $240
    post_webhook("refund.failed", stripe_double.fail_refund(ours(stripe_double, first)))  # the $120 part fails
    assert (site_refunded(first), site_refunded(added)) == (0, 14000)
    before = len(stripe_double.requests_to("POST", "/v1/refunds"))

    # the other two seats: no seat is kept, so all the order kept ($360, the failed $120 included), from the first charge
    refund_order_post(staff("finance_a"), team)
    for intent in (first, added):
        post_webhook("charge.refunded", stripe_double.charge(intent))

    asked = [(r["params"]["payment_intent"], r["params"]["amount"])
             for r in stripe_double.requests_to("POST", "/v1/refunds")[before:]]
    assert asked == [(first, "36000")]
    assert (site_refunded(first), site_refunded(added)) == (36000, 14000)
    team.refresh_from_db()
    assert team.status == Order.Status.REFUNDED
    assert "nothing more is owed" in team.payment_review_note.splitlines()[-1]  # the failed $120 went back with it
    assert zero_emails() == []
    assert_money_reconciles(stripe_double, team)
