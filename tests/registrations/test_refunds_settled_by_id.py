"""Every refund the site asks Stripe for carries its ledger part in the refund's metadata, and a `charge.refunded` event
that meets refunds of ours still waiting on Stripe's answer lists the charge's refunds to tell which refund it counts:
money refunded by hand is recorded as soon as its event arrives, whatever waits beside it, and counted once.
"""

import pytest

from registrations.models import Refund, RefundPart, StripeEvent
from tests.factories import WorkshopFactory
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


def refund_requests(stripe_double) -> list[dict]:
    return [r["params"] for r in stripe_double.requests_to("POST", "/v1/refunds")]


def test_every_refund_the_site_asks_for_names_its_ledger_part(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])

    part = RefundPart.objects.get(refund__order=order)
    assert [r["metadata"].get("ledger_part") for r in refund_requests(stripe_double)] == [str(part.pk)]


def test_a_hand_refund_beside_a_seat_refund_stripe_has_not_made_is_recorded_at_once(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe errs: nothing made, retried
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])  # $120, waiting on Stripe

    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 5000))  # $50 by hand
    assert site_refunded(intent) == 5000, "the waiting seat refund was taken for money Stripe never returned"

    run_worker_at(3)  # the seat refund's retry: made
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 17000
    assert_money_reconciles(stripe_double, order)


def test_a_hand_refund_beside_a_seat_refund_whose_answer_was_lost_is_counted_once(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)  # made, answer lost
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])  # $120 back at Stripe; the site waits

    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 5000))  # counts $170: $120 is ours
    assert site_refunded(intent) == 5000
    assert Refund.objects.get(order=order, kind=Refund.Kind.SEATS).made_at is None  # settled by its own answer

    run_worker_at(3)  # the retry gets Stripe's replay: made, once
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 17000
    assert_money_reconciles(stripe_double, order)


def test_an_event_whose_refunds_stripe_cannot_list_is_refused_and_counted_when_delivered_again(
    client, stripe_double, post_webhook
):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])  # waiting on Stripe
    charge = stripe_double.refund_in_dashboard(intent, 5000)

    stripe_double.fail_next(status=503, path_prefix="/v1/refunds", method="GET")  # Stripe cannot list them now
    first = post_webhook("charge.refunded", charge, event_id="evt_hand_refund")
    assert first.status_code == 500  # Stripe delivers it again later
    assert not StripeEvent.objects.filter(event_id="evt_hand_refund").exists()
    assert site_refunded(intent) == 0

    again = post_webhook("charge.refunded", charge, event_id="evt_hand_refund")
    assert again.status_code == 200
    assert site_refunded(intent) == 5000


def test_a_part_sent_before_parts_were_tagged_is_retried_as_the_same_request(client, stripe_double, post_webhook):
    """Stripe refuses an idempotency key reused with other parameters: a refund first sent without the tag (before
    migration 0026) must be retried without it."""
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    RefundPart.objects.filter(refund__order=order).update(tagged=False)  # as 0026 leaves a part recorded before it

    run_worker_at(3)
    assert "ledger_part" not in refund_requests(stripe_double)[-1]["metadata"]
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 12000
