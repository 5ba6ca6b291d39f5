"""A refund Stripe accepted and could not complete later (`refund.failed`): the buyer did not get the money, so the
ledger stops counting it, its seats stay cancelled and staff are told the buyer is owed it; and no event about that
charge, however late or repeated, counts it again."""

import pytest
from django.conf import settings as django_settings
from django.core import mail

from registrations.models import Order, Refund, Seat
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


def the_refund_of(stripe_double, intent: str, amount: int) -> str:
    return next(r["id"] for r in stripe_double.refunds.values() if r["payment_intent"] == intent and r["amount"] == amount)


def staff_alerts() -> list[str]:
    return [m.body for m in mail.outbox if m.to == [django_settings.STAFF_ALERT_EMAIL]]


def test_a_seat_refund_that_fails_at_stripe_is_no_longer_counted_and_staff_are_told(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert site_refunded(intent) == 12000

    failed = stripe_double.fail_refund(the_refund_of(stripe_double, intent, 12000))
    assert post_webhook("refund.failed", failed).status_code == 200

    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 0
    order.refresh_from_db()
    assert order.seats.get(position=2).status == Seat.Status.REFUNDED  # the seat stays cancelled
    assert order.payment_needs_review and "Contact the buyer" in order.payment_review_note
    assert "card was expired or cancelled" in order.payment_review_note
    assert any("Contact the buyer" in body for body in staff_alerts())
    assert "failed at Stripe" in Refund.objects.get(order=order).reason


def test_an_event_from_before_the_failure_delivered_late_counts_nothing_again(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    before = stripe_double.charge(intent)  # Stripe's charge.refunded for the refund, delivered late

    post_webhook("refund.failed", stripe_double.fail_refund(the_refund_of(stripe_double, intent, 12000)))
    post_webhook("charge.refunded", before)
    post_webhook("charge.refunded", before)  # and again

    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 0
    assert_money_reconciles(stripe_double, order)


def test_a_dashboard_refund_that_fails_is_taken_out_of_the_ledger(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 5000))
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 3000))
    assert site_refunded(intent) == 8000

    post_webhook("refund.failed", stripe_double.fail_refund(the_refund_of(stripe_double, intent, 5000)))

    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 3000
    assert_money_reconciles(stripe_double, order)


def test_a_dashboard_refund_that_fails_before_its_own_event_arrives_is_never_counted(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    snapshot = stripe_double.refund_in_dashboard(intent, 5000)  # its charge.refunded is delayed

    post_webhook("refund.failed", stripe_double.fail_refund(the_refund_of(stripe_double, intent, 5000)))
    post_webhook("charge.refunded", snapshot)

    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 0
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.payment_needs_review


def test_a_seat_refund_whose_answer_was_lost_and_that_then_failed_is_not_sent_again(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)  # made, answer lost
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    post_webhook("refund.failed", stripe_double.fail_refund(the_refund_of(stripe_double, intent, 12000)))
    asked = len(stripe_double.requests_to("POST", "/v1/refunds"))

    run_worker_at(3)  # the retry finds nothing left to send

    assert len(stripe_double.requests_to("POST", "/v1/refunds")) == asked
    assert not [m for m in mail.outbox if m.subject.startswith("Refund of $0")]
    assert site_refunded(intent) == stripe_double.charge(intent)["amount_refunded"] == 0
    assert_money_reconciles(stripe_double, order)


def test_a_refund_failure_stripe_cannot_be_asked_about_is_delivered_again(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    failed = stripe_double.fail_refund(the_refund_of(stripe_double, intent, 12000))

    stripe_double.fail_next(status=503, path_prefix="/v1/refunds", method="GET")
    assert post_webhook("refund.failed", failed, event_id="evt_refund_failed").status_code == 500
    assert site_refunded(intent) == 12000  # nothing changed: Stripe sends it again

    assert post_webhook("refund.failed", failed, event_id="evt_refund_failed").status_code == 200
    assert site_refunded(intent) == 0
