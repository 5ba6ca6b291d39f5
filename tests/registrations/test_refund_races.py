"""Refunds at the same moment as other refunds and Stripe's events, on PostgreSQL with real threads.

After each sequence the money must reconcile to the cent: what the site records as refunded from a payment equals
what Stripe (the double) holds refunded from it, never more than was paid; refunded seats never exceed seats; and the
seats an order takes equal its active seats.

Races are forced where they need one interleaving: the double holds the staff's refund request (`hang`) while the
webhook is delivered, then answers it.
"""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from django_tasks import default_task_backend

from registrations.models import Order, Payment, RefundPart, Seat
from registrations.selectors.availability import seats_taken
from tests.factories import WorkshopFactory
from tests.registrations.helpers import refund_whole_orders, registration_data
from tests.tasks_backend import ImmediateOnCommitBackend

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SEATS = "/admin/registrations/seat/"


@pytest.fixture(autouse=True)
def no_leftover_retries():
    ImmediateOnCommitBackend.forget_deferred()
    yield
    ImmediateOnCommitBackend.forget_deferred()


def run_worker_at(minutes: float) -> int:
    """The worker, `minutes` from now: every retry due by then runs."""
    with time_machine.travel(timezone.now() + timedelta(minutes=minutes)):
        return default_task_backend.run_due_tasks()
ORDERS = "/admin/registrations/order/"


def paid_team(client, stripe_double, post_webhook, workshop, seat_count=2) -> Order:
    """A team of `seat_count` at $120, paid through Checkout; seat 2 is named for someone other than the buyer."""
    client.post(
        f"/workshops/{workshop.slug}/register/",
        registration_data(seat_count=seat_count, attendees=[("Ana Diaz", "ana@lincoln.example")]),
    )
    order = Order.objects.get(kind=Order.Kind.PURCHASE, buyer_email="maya@lincoln.example")
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    assert (order.status, order.total_cents) == (Order.Status.PAID, seat_count * 12000)
    mail.outbox.clear()
    return order


def staff(name: str) -> Client:
    user, _ = get_user_model().objects.get_or_create(
        username=name, defaults={"email": f"{name}@example.org", "is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return client


def refund_seats_post(client: Client, seats) -> object:
    return client.post(SEATS, {"action": "refund_selected_seats", "_selected_action": [s.pk for s in seats], "post": "yes"})


def refund_order_post(client: Client, order) -> object:
    return refund_whole_orders(client, [order], follow=False)


def at_once(*actions) -> list:
    """Run each action in a thread of its own, released together by a barrier; their answers, in order."""
    start = threading.Barrier(len(actions))
    answers: list = [None] * len(actions)

    def run(n: int) -> None:
        try:
            start.wait()
            answers[n] = actions[n]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def in_background(action) -> threading.Thread:
    def run() -> None:
        try:
            action()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_until(check, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def refunds_asked(stripe_double) -> list:
    return stripe_double.requests_to("POST", "/v1/refunds")


def site_refunded(intent: str) -> int:
    made = RefundPart.objects.filter(payment__stripe_payment_intent_id=intent, refund__made_at__isnull=False)
    return made.aggregate(n=Sum("amount_cents"))["n"] or 0


def assert_money_reconciles(stripe_double, order: Order) -> None:
    """Per payment: the site's refunds equal Stripe's, within what was paid; seats counted once; capacity matches."""
    order.refresh_from_db()
    for payment in Payment.objects.filter(order__in=[order, *order.additions.all()]).exclude(stripe_payment_intent_id=""):
        intent = payment.stripe_payment_intent_id
        at_stripe = stripe_double.charge(intent)["amount_refunded"]
        assert site_refunded(intent) == at_stripe, f"site records {site_refunded(intent)} refunded, Stripe holds {at_stripe}"
        assert at_stripe <= payment.amount_cents
    active = order.seats.filter(status=Seat.Status.ACTIVE).count()
    assert order.refunded_seat_count <= order.seat_count
    assert order.seat_count - order.refunded_seat_count == active
    if order.status == Order.Status.REFUNDED:
        assert active == 0
    taking = order.status == Order.Status.PAID
    assert seats_taken(workshop_id=order.workshop_id) == (active if taking else 0)


def sent_to(address: str) -> list:
    return [m.subject for m in mail.outbox if address in m.to]


# --- 1. two staff members at once ---------------------------------------------------------------------------------


def test_two_staff_refunding_the_same_seat_at_once_refund_it_once(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    seat = order.seats.get(position=2)
    a, b = staff("finance_a"), staff("finance_b")
    stripe_double.set_latency(0.3)  # the second POST arrives while the first waits on Stripe

    answers = at_once(lambda: refund_seats_post(a, [seat]), lambda: refund_seats_post(b, [seat]))

    assert [r.status_code for r in answers] == [302, 302]
    assert len(refunds_asked(stripe_double)) == 1
    order.refresh_from_db()
    assert (order.status, order.refunded_seat_count) == (Order.Status.PAID, 1)
    assert site_refunded(order.stripe_payment_intent_id) == 12000
    assert len(sent_to("ana@lincoln.example")) == 1  # the attendee, once
    assert len([s for s in sent_to("maya@lincoln.example") if s.startswith("Refund of")]) == 1
    assert_money_reconciles(stripe_double, order)


def test_two_staff_refunding_the_whole_order_at_once_refund_it_once(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    a, b = staff("finance_a"), staff("finance_b")
    stripe_double.set_latency(0.3)

    at_once(lambda: refund_order_post(a, order), lambda: refund_order_post(b, order))

    assert [r["params"]["amount"] for r in refunds_asked(stripe_double)] == ["36000"]
    order.refresh_from_db()
    assert (order.status, order.refunded_seat_count) == (Order.Status.REFUNDED, 3)
    assert len(sent_to("ana@lincoln.example")) == 1
    assert len([s for s in sent_to("maya@lincoln.example") if s.startswith("Refund of")]) == 1
    assert_money_reconciles(stripe_double, order)


def test_two_staff_refunding_different_seats_at_once_refund_both(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    a, b = staff("finance_a"), staff("finance_b")
    stripe_double.set_latency(0.3)

    at_once(lambda: refund_seats_post(a, [order.seats.get(position=2)]),
            lambda: refund_seats_post(b, [order.seats.get(position=3)]))

    assert sorted(r["params"]["amount"] for r in refunds_asked(stripe_double)) == ["12000", "12000"]
    order.refresh_from_db()
    assert (order.status, order.refunded_seat_count) == (Order.Status.PAID, 2)
    assert_money_reconciles(stripe_double, order)


def test_a_seat_refund_racing_a_whole_order_refund_refunds_each_seat_once(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    seat = order.seats.get(position=2)
    a, b = staff("finance_a"), staff("finance_b")
    stripe_double.set_latency(0.3)

    at_once(lambda: refund_seats_post(a, [seat]), lambda: refund_order_post(b, order))

    assert sum(int(r["params"]["amount"]) for r in refunds_asked(stripe_double)) <= 36000
    assert_money_reconciles(stripe_double, order)
    assert len(sent_to("ana@lincoln.example")) == 1


# --- 2. a staff refund and Stripe's charge.refunded events ----------------------------------------------------------


def staff_refund_held_at_stripe(stripe_double, order, seat, made: bool = False) -> threading.Thread:
    """Staff refund `seat`; the double holds the refund request (`made`: makes the refund, then holds its answer), so
    the site has recorded the refund and is waiting on Stripe's answer when this returns. Only POSTs are held: Stripe
    answers other questions (the charge's refunds) meanwhile."""
    stripe_double.hang(method="POST", after_doing=made)
    thread = in_background(lambda: refund_seats_post(staff("finance_a"), [seat]))
    wait_until(lambda: stripe_double.state()["held"] == 1)
    return thread


def test_a_full_dashboard_refund_while_staff_refund_a_seat_is_recorded_in_full(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    staff_thread = staff_refund_held_at_stripe(stripe_double, order, order.seats.get(position=2))

    # Meanwhile someone refunds the whole charge in Stripe's dashboard, and its event arrives.
    assert post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 24000)).status_code == 200
    stripe_double.end_hang()  # Stripe now refuses the staff refund: nothing is left of the charge
    staff_thread.join(30)

    assert stripe_double.charge(intent)["amount_refunded"] == 24000
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED, (order.status, site_refunded(intent))
    assert_money_reconciles(stripe_double, order)


def test_a_partial_dashboard_refund_during_a_staff_refund_stripe_fails_is_still_recorded(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # answered once the hang ends: an outage
    staff_thread = staff_refund_held_at_stripe(stripe_double, order, order.seats.get(position=2))

    assert post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 5000)).status_code == 200
    stripe_double.end_hang()
    staff_thread.join(30)
    assert stripe_double.charge(intent)["amount_refunded"] == 5000
    assert site_refunded(intent) <= 5000 <= site_refunded(intent) + 12000  # the staff refund waits on its answer

    run_worker_at(3)  # Stripe answers now: the staff refund is made
    post_webhook("charge.refunded", stripe_double.charge(intent))
    assert stripe_double.charge(intent)["amount_refunded"] == 17000
    assert site_refunded(intent) == 17000  # the dashboard's $50 recorded too, once
    assert_money_reconciles(stripe_double, order)


def test_the_staff_refunds_own_event_during_a_lost_answer_keeps_the_refund(client, stripe_double, post_webhook, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 1
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    staff_thread = staff_refund_held_at_stripe(stripe_double, order, order.seats.get(position=2), made=True)

    # Stripe takes the refund and tells the webhook; the answer to the site never arrives.
    assert stripe_double.charge(intent)["amount_refunded"] == 12000
    assert post_webhook("charge.refunded", stripe_double.charge(intent)).status_code == 200
    staff_thread.join(30)  # the SDK gave up: the refund stays pending
    stripe_double.end_hang()  # the held answer goes into the void

    run_worker_at(3)  # the same request again: Stripe's replay
    assert site_refunded(intent) == 12000
    assert len({r["id"] for r in stripe_double.refunds.values()}) == 1
    assert_money_reconciles(stripe_double, order)


def test_retrying_a_seat_refund_whose_answer_was_lost_does_not_count_it_twice(client, stripe_double, post_webhook, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 1
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent, seat = order.stripe_payment_intent_id, order.seats.get(position=2)
    finance = staff("finance_a")
    stripe_double.hang()
    refund_seats_post(finance, [seat])  # times out: the refund stays pending, the seat cancelled
    stripe_double.end_hang()
    wait_until(lambda: stripe_double.charge(intent)["amount_refunded"] == 12000)
    post_webhook("charge.refunded", stripe_double.charge(intent))  # Stripe's event for the refund it made

    refund_seats_post(finance, [seat])  # staff try again: refused, the seat is no longer active
    run_worker_at(3)  # the worker's retry gets Stripe's replay

    refunds = {r["id"] for r in stripe_double.refunds.values()}
    assert len(refunds) == 1 and stripe_double.charge(intent)["amount_refunded"] == 12000
    assert site_refunded(intent) <= 12000, f"site records {site_refunded(intent)} refunded, Stripe holds 12000"
    assert_money_reconciles(stripe_double, order)


def test_the_staff_refunds_own_event_while_it_waits_on_stripe_changes_nothing(client, stripe_double, post_webhook):
    """The event for the staff's own refund can come before Stripe's answer (the site recorded the refund first)."""
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent = order.stripe_payment_intent_id
    staff_thread = staff_refund_held_at_stripe(stripe_double, order, order.seats.get(position=2), made=True)
    assert post_webhook("charge.refunded", stripe_double.charge(intent)).status_code == 200
    stripe_double.end_hang()
    staff_thread.join(30)

    assert site_refunded(intent) == 12000
    assert len(sent_to("ana@lincoln.example")) == 1
    assert_money_reconciles(stripe_double, order)


def test_the_staff_refunds_own_event_twice_and_late_changes_nothing(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    intent = order.stripe_payment_intent_id
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    charge = stripe_double.charge(intent)
    at_once(lambda: post_webhook("charge.refunded", charge), lambda: post_webhook("charge.refunded", charge))
    post_webhook("charge.refunded", charge)

    assert site_refunded(intent) == 12000
    assert len([s for s in sent_to("maya@lincoln.example") if s.startswith("Refund of")]) == 1
    assert_money_reconciles(stripe_double, order)


def test_a_dashboard_refund_whose_event_arrives_after_a_staff_refund_reconciles(client, stripe_double, post_webhook):
    """The dashboard event (a snapshot from before the staff refund) comes last: the staff refund's event, which
    counts both, records the dashboard money."""
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    intent = order.stripe_payment_intent_id
    dashboard = stripe_double.refund_in_dashboard(intent, 5000)
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    post_webhook("charge.refunded", stripe_double.charge(intent))
    post_webhook("charge.refunded", dashboard)

    assert site_refunded(intent) == 17000
    assert_money_reconciles(stripe_double, order)


# --- 3. seats being added, and refunds bigger than what is left -----------------------------------------------------


@pytest.mark.parametrize("refund_waits_on_stripe", [False, True])
def test_a_seat_refund_racing_the_payment_for_added_seats_reconciles(client, stripe_double, post_webhook, refund_waits_on_stripe):
    """Released together the payment usually joins first; with the refund already waiting on Stripe, the seats
    cannot join (the order had money refunded) and their payment is returned."""
    workshop = WorkshopFactory()
    team = paid_team(client, stripe_double, post_webhook, workshop, seat_count=3)
    client.post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "2", "grow-payment_method": "card"})
    addition = Order.objects.get(parent=team)
    paid = stripe_double.pay(addition.stripe_checkout_session_id)
    finance = staff("finance_a")
    seat = team.seats.get(position=2)

    if refund_waits_on_stripe:
        stripe_double.set_latency(0.5)
        thread = in_background(lambda: refund_seats_post(finance, [seat]))
        wait_until(lambda: len(refunds_asked(stripe_double)) == 1)
        post_webhook("checkout.session.completed", paid)
        thread.join(30)
    else:
        at_once(lambda: refund_seats_post(finance, [seat]), lambda: post_webhook("checkout.session.completed", paid))

    addition.refresh_from_db()
    assert addition.status in (Order.Status.MERGED, Order.Status.REFUNDED), addition.status
    if refund_waits_on_stripe:
        assert addition.status == Order.Status.REFUNDED
    assert_money_reconciles(stripe_double, team)
    team.refresh_from_db()
    assert team.refunded_seat_count == 1
    assert team.seat_count == (5 if addition.status == Order.Status.MERGED else 3)


def test_a_whole_order_refund_after_a_partial_dashboard_refund_takes_only_what_is_left(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory(), seat_count=3)
    intent = order.stripe_payment_intent_id
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 30000))
    # $60 left, and the 2 seats kept cost $240: that seat is cancelled with nothing back, Stripe is not asked.
    refund_seats_post(staff("finance_a"), [order.seats.get(position=2)])
    assert refunds_asked(stripe_double) == []
    refund_whole_orders(staff("finance_b"), [order])  # the $60 left, and the other two seats

    assert [r["params"]["amount"] for r in refunds_asked(stripe_double)] == ["6000"]
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert_money_reconciles(stripe_double, order)


def test_a_seat_refund_refused_before_the_dashboard_event_can_be_retried_after_it(client, stripe_double, post_webhook):
    order = paid_team(client, stripe_double, post_webhook, WorkshopFactory())
    intent, seat = order.stripe_payment_intent_id, order.seats.get(position=2)
    finance = staff("finance_a")
    dashboard = stripe_double.refund_in_dashboard(intent, 20000)  # its event is still on its way
    refund_seats_post(finance, [seat])  # Stripe: only $40 is left of the charge
    post_webhook("charge.refunded", dashboard)

    refund_seats_post(finance, [seat])  # staff try again: the seat kept costs $120 and $40 is left, so nothing comes back

    assert [r["params"]["amount"] for r in refunds_asked(stripe_double)] == ["12000"]  # the $0 retry never asks Stripe
    assert stripe_double.charge(intent)["amount_refunded"] == 20000
    order.refresh_from_db()  # the seat is cancelled; the other seat stays, on the $40 the order kept
    assert (order.status, order.refunded_seat_count) == (Order.Status.PAID, 1)
    assert_money_reconciles(stripe_double, order)
