"""Regression tests for problems found in review: double payments, voucher reuse, refund shares."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from registrations.models import Order, Voucher
from registrations.selectors.ledger import order_money
from registrations.services.seat_refunds import refund_seats
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)

INVOICE = {
    "payment_method": "invoice", "billing_name": "Dana Ruiz", "billing_email": "accounts@lincoln-usd.example",
    "billing_line1": "100 Main Street", "billing_city": "Oakland", "billing_state": "CA", "billing_postal_code": "94612",
}


def register(client, workshop, **kwargs):
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(**kwargs))
    return Order.objects.filter(buyer_email=kwargs.get("buyer_email", "maya@lincoln.example")).latest("created_at")


def test_renewing_a_hold_expires_the_old_checkout_session(client, workshop, stripe_double):
    order = register(client, workshop)
    first = order.stripe_checkout_session_id
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        client.post(f"/orders/{order.token}/pay/")
    order.refresh_from_db()
    assert order.stripe_checkout_session_id != first
    assert stripe_double.sessions[first]["status"] == "expired"
    assert stripe_double.sessions[order.stripe_checkout_session_id]["status"] == "open"


def test_paying_again_after_paying_in_another_tab_opens_no_second_session(client, workshop, stripe_double):
    order = register(client, workshop)
    stripe_double.pay(order.stripe_checkout_session_id)  # paid; the webhook has not arrived yet
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        response = client.post(f"/orders/{order.token}/pay/")
    order.refresh_from_db()
    assert response["Location"] == f"/orders/{order.token}/"
    assert order.status == Order.Status.PAID
    assert len(stripe_double.sessions) == 1


def test_a_second_payment_for_a_paid_order_is_refunded(client, workshop, stripe_double, post_webhook):
    order = register(client, workshop, seat_count=2)
    first = order.stripe_checkout_session_id
    stripe_double.fail_next(status=500, path_prefix=f"/v1/checkout/sessions/{first}/expire")
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        client.post(f"/orders/{order.token}/pay/")  # a renewed hold: Stripe failed to close the first session
        order.refresh_from_db()
        second = order.stripe_checkout_session_id
        post_webhook("checkout.session.completed", stripe_double.pay(second))
        duplicate = stripe_double.pay(first)  # paid in the other tab
        assert post_webhook("checkout.session.completed", duplicate).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.stripe_payment_intent_id != duplicate["payment_intent"]
    refund = stripe_double.requests_to("POST", "/v1/refunds")[0]["params"]
    assert (refund["payment_intent"], int(refund["amount"])) == (duplicate["payment_intent"], 24000)
    assert "a second payment" in order.staff_note
    money = order_money(order=order)
    assert (money.paid_cents, money.net_cents, money.returned_cents) == (24000, 24000, 24000)


def test_renewing_a_hold_cannot_reuse_a_code_someone_else_took(client, stripe_double):
    workshop = WorkshopFactory(capacity=10)
    Voucher.objects.create(code="ONCE", kind="percent", percent_off=50, max_seats=1)
    first = register(client, workshop, voucher_code="ONCE")
    held_until = first.hold_expires_at
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        # Used while the hold had lapsed.
        OrderFactory(workshop=workshop, voucher=Voucher.objects.get(code="ONCE"), voucher_seat_count=1)
        response = client.post(f"/orders/{first.token}/pay/", follow=True)
    assert "Code ONCE has been used up" in response.content.decode()
    first.refresh_from_db()
    assert first.status == Order.Status.PENDING and first.hold_expires_at == held_until  # not renewed


def test_renewing_a_hold_after_registration_closed_is_refused(client, stripe_double):
    workshop = WorkshopFactory()
    order = register(client, workshop)
    workshop.registration_closes_at = timezone.now() + timedelta(minutes=35)
    workshop.save()
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        response = client.post(f"/orders/{order.token}/pay/", follow=True)
    assert "Registration for this workshop has closed" in response.content.decode()


def test_partial_refunds_of_a_discounted_order_keep_the_code_on_the_seats_kept(client, workshop, stripe_double, post_webhook):
    Voucher.objects.create(code="HALF", kind="percent", percent_off=50)
    order = register(client, workshop, seat_count=5, voucher_code="HALF")
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    seats = list(order.seats.order_by("position"))
    first = refund_seats(order=order, seats=seats[:2], reason="test")
    second = refund_seats(order=order, seats=seats[2:], reason="test")
    # $250 paid (5 x $100, half off); the 3 seats kept cost 3 x $120, half off, $180: $70 back, then the $180.
    assert (first.amount_cents, second.amount_cents) == (7000, 18000)
    order.refresh_from_db()
    assert order_money(order=order).refunded_cents == order.total_cents == 25000


def test_refunding_a_large_team_uses_a_valid_idempotency_key(client, stripe_double, post_webhook, settings):
    workshop = WorkshopFactory(capacity=100)
    order = register(client, workshop, seat_count=50)
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    refund_seats(order=order, seats=list(order.seats.all()), reason="cancelled")
    key = stripe_double.requests_to("POST", "/v1/refunds")[0]["idempotency_key"]
    assert len(key) <= 255
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order_money(order=order).refunded_cents == 500000


@pytest.mark.parametrize(
    "query",
    ["?from=%00", "?from=" + "a" * 5000, "?quote=%00", "?quote=Q-" + "Z" * 300],
)
def test_malformed_prefill_links_show_an_empty_form(client, workshop, query):
    response = client.get(f"/workshops/{workshop.slug}/register/{query}")
    assert response.status_code == 200
    assert "Register" in response.content.decode()


@pytest.mark.parametrize("update", [True, False])
def test_voucher_code_with_a_nul_byte_gets_a_message(client, workshop, stripe_double, update):
    data = registration_data(voucher_code="HALF\x00")
    if update:
        data["update"] = "1"
    response = client.post(f"/workshops/{workshop.slug}/register/", data)
    assert response.status_code in (200, 400)
    assert "This code is not valid" in response.content.decode() or "Null characters are not allowed" in response.content.decode()
    assert not Order.objects.exists()


def test_a_card_hold_cannot_be_renewed_past_two_hours(client, workshop, stripe_double):
    order = register(client, workshop)
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        client.post(f"/orders/{order.token}/pay/")  # renewed: 71 minutes after placing
    with time_machine.travel(timezone.now() + timedelta(minutes=100)):
        response = client.post(f"/orders/{order.token}/pay/", follow=True)
    assert "held for as long as we can hold them" in response.content.decode()
    assert len(stripe_double.sessions) == 2
    order.refresh_from_db()
    assert order.hold_expires_at <= order.created_at + timedelta(hours=2)


def test_invoice_paid_for_another_invoice_changes_nothing(client, workshop, stripe_double, post_webhook):
    order = register(client, workshop, **INVOICE)
    other = {"id": "in_someone_elses", "object": "invoice", "status": "paid", "amount_paid": order.total_cents,
             "currency": "usd", "metadata": {"order_reference": order.reference}}
    assert post_webhook("invoice.paid", other).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.payment_needs_review


def test_course_orders_cannot_grow_outside_the_waitlist(client, stripe_double):
    workshop = WorkshopFactory(is_listed=False)
    order = OrderFactory(workshop=workshop, seat_count=1)
    response = client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": "2", "grow-payment_method": "card"})
    assert response.status_code == 400
    assert "offered from the waitlist" in response.content.decode()
    assert Order.objects.count() == 1
