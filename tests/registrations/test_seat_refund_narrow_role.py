"""Seat refunds in admin attacked by Finance staff (the narrow role that may refund): the same refund sent twice at
once, a seat refund and "Send pending seat refunds again" at the same moment, and the action on orders where it
makes no sense. Each staff member must get a page back (never a server error), the money must reconcile with Stripe,
and an attendee must never be told their seat was refunded while it is active.
"""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client

from registrations.models import Order, Refund, Seat
from staff.roles import FINANCE, ROLES
from tests.factories import WorkshopFactory
from tests.registrations.helpers import refund_whole_orders
from tests.registrations.test_refund_races import (  # noqa: F401 (no_leftover_retries: a fixture, used by every test)
    assert_money_reconciles,
    no_leftover_retries,
    paid_team,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDERS = "/admin/registrations/order/"
SEATS = "/admin/registrations/seat/"


def finance(name: str) -> Client:
    """A staff account holding only the Finance role (a transactional test's flush removes the migration's groups)."""
    group, _ = Group.objects.get_or_create(name=FINANCE)
    if not group.permissions.exists():
        for label in ROLES[FINANCE]:
            app_label, codename = label.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    user, _ = get_user_model().objects.get_or_create(username=name, defaults={"email": f"{name}@example.org", "is_staff": True})
    user.groups.add(group)
    client = Client(raise_request_exception=False)  # a server error is an answer: a 500 page
    client.force_login(user)
    return client


def refund_seat(client: Client, seat):
    return client.post(SEATS, {"action": "refund_selected_seats", "_selected_action": [seat.pk], "post": "yes"})


def resend(client: Client, order):
    return client.post(ORDERS, {"action": "resend_pending_seat_refunds", "_selected_action": [order.pk]})


def in_thread(action, answers: list) -> threading.Thread:
    from django.db import connection

    def run():
        try:
            answers.append(action())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def seat_refunded_emails(address: str) -> list[str]:
    return [m.subject for m in mail.outbox if address in m.to and "refund" in m.subject.lower()]


def test_resending_while_another_staff_refund_waits_on_stripe_and_is_refused_is_not_a_server_error(
    client, stripe_double, post_webhook
):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent, seat = order.stripe_payment_intent_id, order.seats.get(position=2)
    post_event_later = stripe_double.refund_in_dashboard(intent, 20000)  # $40 left at Stripe; its event is on its way
    a, b = finance("finance_a"), finance("finance_b")
    stripe_double.set_latency(0.5)  # A's refund waits on Stripe while B presses "Send pending seat refunds again"

    answers_a: list = []
    thread = in_thread(lambda: refund_seat(a, seat), answers_a)
    wait_until(lambda: Refund.objects.filter(order=order).exists())  # A's refund is recorded, pending
    answer_b = resend(b, order)
    thread.join(30)

    assert [r.status_code for r in answers_a] == [302] and answer_b.status_code == 302, (
        [r.status_code for r in answers_a], answer_b.status_code)
    seat.refresh_from_db()
    assert seat.status == Seat.Status.ACTIVE  # Stripe refused: nothing changed
    assert not seat_refunded_emails("ana@lincoln.example"), "the attendee was told her active seat was refunded"
    post_webhook("charge.refunded", post_event_later)
    assert_money_reconciles(stripe_double, order)


def test_two_staff_resending_a_pending_seat_refund_stripe_refuses_both_get_a_page(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent, seat = order.stripe_payment_intent_id, order.seats.get(position=2)
    a, b = finance("finance_a"), finance("finance_b")
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe errs: the refund stays pending
    refund_seat(a, seat)
    assert Refund.objects.get(order=order).made_at is None
    event = stripe_double.refund_in_dashboard(intent, 20000)  # meanwhile $200 refunded by hand: Stripe refuses $120 now
    stripe_double.set_latency(0.5)

    answers_a: list = []
    thread = in_thread(lambda: resend(a, order), answers_a)
    wait_until(lambda: len(stripe_double.requests_to("POST", "/v1/refunds")) >= 2)  # A's request is at Stripe
    answer_b = resend(b, order)
    thread.join(30)

    assert [r.status_code for r in answers_a] == [302] and answer_b.status_code == 302, (
        [r.status_code for r in answers_a], answer_b.status_code)
    seat.refresh_from_db()
    assert seat.status == Seat.Status.ACTIVE
    assert not Refund.objects.filter(order=order, kind=Refund.Kind.SEATS).exists()
    post_webhook("charge.refunded", event)
    assert_money_reconciles(stripe_double, order)


def test_resending_while_another_staff_refund_waits_on_stripe_makes_it_once_and_emails_once(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent, seat = order.stripe_payment_intent_id, order.seats.get(position=2)
    a, b = finance("finance_a"), finance("finance_b")
    stripe_double.set_latency(0.5)

    answers_a: list = []
    thread = in_thread(lambda: refund_seat(a, seat), answers_a)
    wait_until(lambda: Refund.objects.filter(order=order).exists())
    answer_b = resend(b, order)  # the same request, with the same key: Stripe's replay (or "in progress")
    thread.join(30)

    assert [r.status_code for r in answers_a] == [302] and answer_b.status_code == 302
    assert [r["amount"] for r in stripe_double.refunds.values()] == [12000]
    assert Refund.objects.get(order=order).made_at is not None
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert_money_reconciles(stripe_double, order)
    buyer = [m.subject for m in mail.outbox if order.buyer_email in m.to and m.subject.startswith("Refund of")]
    assert len(buyer) == 1, buyer
    assert len([m for m in mail.outbox if "ana@lincoln.example" in m.to]) == 1  # told once that her seat was refunded


def test_a_whole_order_refund_left_pending_is_sent_again_although_the_order_already_reads_refunded(
    client, stripe_double, post_webhook
):
    """Not paid any more (every seat cancelled) is no reason to refuse: the money is still owed back."""
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    a = finance("finance_a")
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")
    refund_whole_orders(a, [order])
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and Refund.objects.get(order=order).made_at is None

    answer = a.post(ORDERS, {"action": "resend_pending_seat_refunds", "_selected_action": [order.pk]}, follow=True)
    assert f"{order.reference}: 1 pending seat refund(s) made, 0 still waiting on Stripe." in answer.content.decode()
    assert Refund.objects.get(order=order).made_at is not None
    assert [r["amount"] for r in stripe_double.refunds.values()] == [24000]
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert_money_reconciles(stripe_double, order)
