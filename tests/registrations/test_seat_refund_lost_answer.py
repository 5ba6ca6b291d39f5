"""A staff seat refund whose answer from Stripe is lost (Stripe's own error, a dropped connection, a timeout): the seat
stays cancelled, the refund is kept pending (not counted, not forgotten), and the worker sends the same request again
until Stripe answers, so Stripe makes it once and the buyer is emailed once. A refusal Stripe states changes nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from registrations.models import Order, Refund, Seat
from registrations.selectors.ledger import order_money
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)  # the worker (run_worker) opens and closes its own connections

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}
SEATS = "/admin/registrations/seat/"


@pytest.fixture
def order(client, stripe_double, post_webhook):
    """A paid team of two at $120, seat 2 named for Ana."""
    workshop = WorkshopFactory()
    client.post(
        f"/workshops/{workshop.slug}/register/",
        registration_data(seat_count=2, attendees=[("Ana Diaz", "ana@lincoln.example")]),
    )
    order = Order.objects.get(buyer_email="maya@lincoln.example")
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    mail.outbox.clear()
    return order


def refund_seat_2(staff_client, order):
    seat = order.seats.get(position=2)
    response = staff_client.post(
        SEATS, {"action": "refund_selected_seats", "_selected_action": [seat.pk], "post": "yes"}, follow=True
    )
    return response.content.decode()


def stripe_refunds(stripe_double, order) -> list[int]:
    return [r["amount"] for r in stripe_double.refunds.values() if r["payment_intent"] == order.stripe_payment_intent_id]


def refund_emails() -> list[str]:
    return [m.subject for m in mail.outbox if m.subject.startswith("Refund of")]


@override_settings(TASKS=DATABASE_TASKS)
@pytest.mark.parametrize("status", [500, 0], ids=["stripe-error", "connection-dropped"])
def test_staff_are_told_the_refund_is_pending_and_the_seat_stays_cancelled(staff_client, order, stripe_double, status):
    stripe_double.fail_next(status=status, path_prefix="/v1/refunds", method="POST", lost_answer=True)
    page = refund_seat_2(staff_client, order)
    assert "Stripe did not confirm the refund of $120.00" in page
    assert "sent again automatically" in page
    assert order.seats.get(position=2).status == Seat.Status.REFUNDED
    assert stripe_refunds(stripe_double, order) == [12000]  # Stripe made it: only its answer was lost
    assert order_money(order=order).refunded_cents == 0  # not counted until Stripe says so
    assert order_money(order=order).pending_return_cents == 12000  # nor offered to another refund
    assert refund_emails() == []


@override_settings(TASKS=DATABASE_TASKS)
def test_the_worker_sends_the_same_refund_again_and_stripe_makes_it_once(staff_client, order, stripe_double):
    stripe_double.fail_next(status=0, path_prefix="/v1/refunds", method="POST", lost_answer=True)
    refund_seat_2(staff_client, order)
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        call_command("run_worker", "--batch")
    keys = [r["idempotency_key"] for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert len(keys) == 2 and keys[0] == keys[1]  # the retry is the same request
    assert stripe_refunds(stripe_double, order) == [12000]
    assert order_money(order=order).refunded_cents == 12000
    assert Refund.objects.get(order=order).made_at is not None
    assert refund_emails() == ["Refund of $120.00: " + order.workshop.title + f" ({order.reference})"]


@override_settings(TASKS=DATABASE_TASKS)
def test_stripe_reporting_the_refund_first_leaves_it_to_its_own_answer(staff_client, order, stripe_double, post_webhook):
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)
    refund_seat_2(staff_client, order)
    post_webhook("charge.refunded", stripe_double.charge(order.stripe_payment_intent_id))
    assert order_money(order=order).refunded_cents == 0  # an event's total cannot say which refund it counts
    assert order_money(order=order).pending_return_cents == 12000
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        call_command("run_worker", "--batch")
    assert stripe_refunds(stripe_double, order) == [12000]  # the retry was Stripe's replay
    assert order_money(order=order).refunded_cents == 12000  # counted once
    assert len(refund_emails()) == 1


@override_settings(TASKS=DATABASE_TASKS)
def test_staff_are_flagged_while_stripe_keeps_failing(staff_client, order, stripe_double):
    stripe_double.fail_next(status=500, times=3, path_prefix="/v1/refunds", method="POST")  # Stripe's errors, nothing made
    refund_seat_2(staff_client, order)
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        call_command("run_worker", "--batch")
    order.refresh_from_db()
    assert order.payment_needs_review
    assert "A refund of $120.00 for 1 seat(s) is recorded but Stripe has not confirmed it" in order.payment_review_note
    assert stripe_refunds(stripe_double, order) == []
    assert order_money(order=order).pending_return_cents == 12000


def test_a_refusal_stripe_states_changes_nothing_and_can_be_tried_again(staff_client, order, stripe_double):
    stripe_double.fail_next(status=402, path_prefix="/v1/refunds", method="POST")
    page = refund_seat_2(staff_client, order)
    assert "Nothing changed" in page
    assert order.seats.get(position=2).status == Seat.Status.ACTIVE
    assert not Refund.objects.filter(order=order).exists()
    refund_seat_2(staff_client, order)  # a new refund, a new request: not the refused one replayed
    keys = [r["idempotency_key"] for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert len(set(keys)) == 2
    assert stripe_refunds(stripe_double, order) == [12000]
    assert order.seats.get(position=2).status == Seat.Status.REFUNDED
