"""A hostile review of the payment ledger (issue 14), tried as a hostile buyer and an unlucky one would: each test
is an attack through the public surface (the forms, signed webhooks from the Stripe double, the admin), kept as a
regression test where it found a problem, or because it covers an edge the other money tests do not."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from registrations.models import Order, Refund
from registrations.selectors.availability import seats_taken
from registrations.selectors.ledger import order_money
from tests.factories import WorkshopFactory
from tests.registrations.helpers import refund_whole_orders, registration_data
from workshops.models import PriceTier

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}

BILLING = {
    "payment_method": "invoice", "billing_name": "Dana Ruiz", "billing_email": "accounts@lincoln-usd.example",
    "billing_line1": "100 Main Street", "billing_city": "Oakland", "billing_state": "CA", "billing_postal_code": "94612",
}


def register(client, workshop, **kwargs):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(**kwargs))


def latest(**filters) -> Order:
    return Order.objects.filter(**filters).latest("created_at")


def add_seats(client, order, extra):
    return client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": str(extra), "grow-payment_method": "card"})


def staff_emails() -> list:
    return [m for m in mail.outbox if m.to == [django_settings.STAFF_ALERT_EMAIL]]


def receipt(client, order) -> dict:
    html = client.get(f"/orders/{order.token}/").content.decode()
    return {name: int(m.group(1)) if (m := re.search(rf'data-{name}-cents="(\d+)"', html)) else None
            for name in ("total", "paid", "refunded", "net")}


def paid_team(client, stripe_double, post_webhook, workshop, seats=3) -> Order:
    register(client, workshop, seat_count=seats)
    team = latest()
    post_webhook("checkout.session.completed", stripe_double.pay(team.stripe_checkout_session_id))
    team.refresh_from_db()
    assert team.status == Order.Status.PAID
    return team


def refunds_asked(stripe_double) -> list[tuple[str, str]]:
    return [(r["params"]["payment_intent"], r["params"]["amount"]) for r in stripe_double.requests_to("POST", "/v1/refunds")]


# --- seats added later whose order changed before they were paid ----------------------------------------------------


def lapsed_then_overtaken(client, stripe_double, post_webhook, workshop, *, team_seats=3, extra=2):
    """A paid team and the first seats its lead adds (priced for `team_seats`). Returns (team, that addition)."""
    team = paid_team(client, stripe_double, post_webhook, workshop, seats=team_seats)
    add_seats(client, team, extra)
    first = Order.objects.get(parent=team)
    return team, first


def add_again_and_pay(client, stripe_double, post_webhook, team, extra) -> Order:
    """The lead adds seats again (the first addition's hold lapsed) and pays at once: the team grows."""
    add_seats(client, team, extra)
    second = Order.objects.filter(parent=team).latest("created_at")
    post_webhook("checkout.session.completed", stripe_double.pay(second.stripe_checkout_session_id))
    return second


def test_a_stale_addition_that_now_costs_more_is_not_sent_to_payment_again(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team, first = lapsed_then_overtaken(client, stripe_double, post_webhook, workshop)
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        add_again_and_pay(client, stripe_double, post_webhook, team, 2)  # the first addition lapsed unpaid
        # The first addition's page still has its "Continue to payment" button: $140 for seats that now cost $200.
        response = client.post(f"/orders/{first.token}/pay/", follow=True)
    assert "changed since these seats were priced" in response.content.decode()
    assert len([s for s in stripe_double.sessions.values() if s["client_reference_id"] == first.reference]) == 1
    first.refresh_from_db()
    assert first.status == Order.Status.CANCELLED
    assert seats_taken(workshop_id=workshop.pk) == 5


def test_a_stale_addition_that_now_costs_more_is_returned_in_full_and_the_lead_told(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team, first = lapsed_then_overtaken(client, stripe_double, post_webhook, workshop)
    first_paid = stripe_double.pay(first.stripe_checkout_session_id)  # $140 for 2 seats on top of 3; webhook late
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        add_again_and_pay(client, stripe_double, post_webhook, team, 2)
        post_webhook("checkout.session.completed", first_paid)  # 7 seats would cost $700: $200 more, not $140
    team.refresh_from_db()
    assert (team.seat_count, team.total_cents) == (5, 50000)  # not 7 seats for $640: nothing absorbed
    assert refunds_asked(stripe_double) == [(first_paid["payment_intent"], "14000")]
    assert (order_money(order=team).net_cents, order_money(order=first).returned_cents) == (50000, 14000)
    (told,) = [m for m in mail.outbox if m.subject.startswith("Your payment for")]
    assert "We have refunded the full $140.00" in told.body and f"/orders/{team.token}/" in told.body
    assert seats_taken(workshop_id=workshop.pk) == 5


def test_a_stale_addition_whose_order_now_costs_less_than_it_paid_does_not_break_the_webhook(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    PriceTier.objects.create(workshop=workshop, min_seats=6, unit_price_cents=8000)  # $120; $100 for 5+; $80 for 6+
    team, first = lapsed_then_overtaken(client, stripe_double, post_webhook, workshop, team_seats=4, extra=1)
    first_paid = stripe_double.pay(first.stripe_checkout_session_id)  # $20: 5 seats at $100 less the $480 paid
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        add_again_and_pay(client, stripe_double, post_webhook, team, 1)
        # A sixth seat: 6 x $80 = $480, less than the $500 paid already.
        response = post_webhook("checkout.session.completed", first_paid)
    assert response.status_code == 200
    team.refresh_from_db()
    assert (team.seat_count, team.total_cents) == (5, 50000)
    assert refunds_asked(stripe_double) == [(first_paid["payment_intent"], "2000")]
    assert order_money(order=team).net_cents == 50000


# --- money the site owes back, when Stripe is down at that moment ---------------------------------------------------


def overpaid_addition(client, stripe_double, post_webhook, workshop) -> tuple[Order, dict]:
    """A fourth seat paid at $120 whose late webhook makes it the fifth ($20): $100 is owed back."""
    team, first = lapsed_then_overtaken(client, stripe_double, post_webhook, workshop, team_seats=3, extra=1)
    first_paid = stripe_double.pay(first.stripe_checkout_session_id)
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        add_again_and_pay(client, stripe_double, post_webhook, team, 1)
        stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # Stripe cannot take the refund just now
        assert post_webhook("checkout.session.completed", first_paid).status_code == 200
    return team, first_paid


def test_an_overpayment_stripe_would_not_return_is_flagged_for_staff(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team, first_paid = overpaid_addition(client, stripe_double, post_webhook, workshop)
    team.refresh_from_db()
    assert team.total_cents == 50000 and order_money(order=team).net_cents == 60000  # $100 owed back
    assert team.payment_needs_review
    (alert,) = staff_emails()
    assert "$100.00" in alert.body and first_paid["payment_intent"] in alert.body


@override_settings(TASKS=DATABASE_TASKS)
def test_money_owed_back_is_returned_by_the_worker_once_stripe_answers_again(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team, first_paid = overpaid_addition(client, stripe_double, post_webhook, workshop)
    call_command("run_worker", "--batch")  # Stripe answers 500 to the refund
    assert refunds_asked(stripe_double) == [(first_paid["payment_intent"], "10000")]
    assert order_money(order=team).net_cents == 60000
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        call_command("run_worker", "--batch")
    assert refunds_asked(stripe_double) == [(first_paid["payment_intent"], "10000")] * 2  # same idempotency key
    assert order_money(order=team).net_cents == 50000 == receipt(client, team)["net"]


def test_seats_added_after_an_overpayment_was_returned_can_still_be_added_online(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    team, _ = lapsed_then_overtaken(client, stripe_double, post_webhook, workshop, team_seats=3, extra=1)
    first = Order.objects.get(parent=team)
    first_paid = stripe_double.pay(first.stripe_checkout_session_id)
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        add_again_and_pay(client, stripe_double, post_webhook, team, 1)
        post_webhook("checkout.session.completed", first_paid)  # joins as the fifth seat; $100 of its $120 returned
        response = client.post(
            f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "1", "grow-payment_method": "card"}, follow=True
        )
    assert "Money on this order was refunded" not in response.content.decode()
    assert Order.objects.filter(parent=team, status=Order.Status.PENDING).count() == 1


# --- events about a payment that arrive before the payment itself ---------------------------------------------------


def test_a_dashboard_refund_reported_before_its_payment_is_still_recorded(client, workshop, stripe_double, post_webhook):
    register(client, workshop, seat_count=2)
    order = latest()
    paid = stripe_double.pay(order.stripe_checkout_session_id)
    # Our endpoint was down for a while: Stripe redelivers the refund made in its dashboard before the payment.
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(paid["payment_intent"], 5000))
    post_webhook("checkout.session.completed", paid)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert receipt(client, order) == {"total": 24000, "paid": 24000, "refunded": 5000, "net": 19000}


def test_a_dispute_reported_before_its_payment_still_flags_the_order(client, workshop, stripe_double, post_webhook):
    register(client, workshop)
    order = latest()
    paid = stripe_double.pay(order.stripe_checkout_session_id)
    post_webhook("charge.dispute.created", {"id": "dp_early", "object": "dispute", "payment_intent": paid["payment_intent"],
                                            "amount": 12000, "reason": "fraudulent"})
    post_webhook("checkout.session.completed", paid)
    order.refresh_from_db()
    assert order.payment_needs_review and "dp_early" in order.payment_review_note
    assert len([m for m in staff_emails() if "dp_early" in m.body]) == 1


# --- attacks the site held, kept for what they cover ----------------------------------------------------------------


@pytest.mark.postgres
def test_two_additions_racing_for_one_team_make_one_hold(client, stripe_double, post_webhook):
    import threading

    from django.db import connection
    from django.test import Client

    workshop = WorkshopFactory()
    team = paid_team(client, stripe_double, post_webhook, workshop)
    start = threading.Barrier(6)

    def grow() -> None:
        try:
            start.wait()
            Client().post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "2", "grow-payment_method": "card"})
        finally:
            connection.close()

    threads = [threading.Thread(target=grow) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (addition,) = Order.objects.filter(parent=team)
    assert (addition.total_cents, addition.priced_for_seat_count) == (14000, 3)
    assert seats_taken(workshop_id=workshop.pk) == 5


def test_a_partial_dashboard_refund_of_an_invoice_payment_caps_what_staff_refund(client, staff_client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    register(client, workshop, seat_count=5, **BILLING)
    order = latest()
    post_webhook("invoice.paid", stripe_double.pay_invoice(order.stripe_invoice_id))
    intent = stripe_double.invoice(order.stripe_invoice_id)["payments"]["data"][0]["payment"]["payment_intent"]
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 45000))  # $450 of $500, by hand
    refund_whole_orders(staff_client, [order])
    assert refunds_asked(stripe_double) == [(intent, "5000")]  # only what was left of the charge
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert receipt(client, order) == {"total": 50000, "paid": 50000, "refunded": 50000, "net": 0}
    assert Refund.objects.filter(order=order).count() == 2
