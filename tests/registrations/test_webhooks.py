from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from registrations.models import Order, Seat, StripeEvent
from registrations.selectors.ledger import order_money
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

# Fulfilment sends its email on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pending_order(client, workshop, stripe_double):
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    mail.outbox.clear()
    return Order.objects.get()


def completed(stripe_double, order):
    return stripe_double.pay(order.stripe_checkout_session_id)


def test_completed_event_fulfils_order(post_webhook, stripe_double, pending_order):
    session = completed(stripe_double, pending_order)
    response = post_webhook("checkout.session.completed", session)
    assert response.status_code == 200
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.PAID
    assert pending_order.stripe_payment_intent_id == session["payment_intent"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["maya@lincoln.example"]
    assert pending_order.reference in mail.outbox[0].subject


def test_same_event_ten_times_fulfils_once_and_sends_one_email(post_webhook, stripe_double, pending_order):
    session = completed(stripe_double, pending_order)
    responses = [post_webhook("checkout.session.completed", session, event_id="evt_repeat") for _ in range(10)]
    assert {r.status_code for r in responses} == {200}
    assert [r.content for r in responses[1:]] == [b"duplicate"] * 9
    assert StripeEvent.objects.filter(event_id="evt_repeat").count() == 1
    assert len(mail.outbox) == 1


def test_distinct_events_for_same_payment_send_one_email(post_webhook, stripe_double, pending_order):
    session = completed(stripe_double, pending_order)
    post_webhook("checkout.session.completed", session)
    post_webhook("checkout.session.async_payment_succeeded", session)
    assert len(mail.outbox) == 1


def test_bad_signature_is_rejected_and_changes_nothing(post_webhook, stripe_double, pending_order):
    session = completed(stripe_double, pending_order)
    response = post_webhook("checkout.session.completed", session, secret="whsec_wrong")
    assert response.status_code == 400
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.PENDING
    assert not StripeEvent.objects.exists()


def test_stale_timestamp_is_rejected(post_webhook, stripe_double, pending_order):
    session = completed(stripe_double, pending_order)
    stale = int((timezone.now() - timedelta(minutes=10)).timestamp())
    response = post_webhook("checkout.session.completed", session, timestamp=stale)
    assert response.status_code == 400
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.PENDING


def test_missing_signature_header_is_rejected(client, stripe_double):
    response = client.post("/stripe/webhook/", data="{}", content_type="application/json")
    assert response.status_code == 400


def test_webhook_rejects_get(client):
    assert client.get("/stripe/webhook/").status_code == 405


def test_expired_event_frees_the_seats(client, post_webhook, stripe_double):
    workshop = WorkshopFactory(capacity=2)
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    order = Order.objects.get()
    assert "sold out" in client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    session = dict(stripe_double.sessions[order.stripe_checkout_session_id], status="expired")
    post_webhook("checkout.session.expired", session)
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert "2 seats left" in client.get(workshop.get_absolute_url()).content.decode()


def test_expiry_of_an_older_session_leaves_newer_checkout_open(post_webhook, stripe_double, pending_order):
    stale_session = {"id": "cs_test_older", "client_reference_id": pending_order.reference, "status": "expired"}
    post_webhook("checkout.session.expired", stale_session)
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.PENDING


def test_completed_after_lapsed_hold_confirms_when_seats_are_free(post_webhook, stripe_double, pending_order):
    session = completed(stripe_double, pending_order)
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        post_webhook("checkout.session.expired", {**session, "status": "expired"})
        post_webhook("checkout.session.completed", session)
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.PAID
    assert not stripe_double.requests_to("POST", "/v1/refunds")


def test_completed_after_lapsed_hold_refunds_when_seats_are_gone(client, post_webhook, stripe_double):
    workshop = WorkshopFactory(capacity=2)
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    late = Order.objects.get()
    session = completed(stripe_double, late)
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        OrderFactory(workshop=workshop, seat_count=2, unit_price_cents=12000)  # someone else took the seats
        mail.outbox.clear()
        post_webhook("checkout.session.completed", session)
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED
    assert "paid after its seat hold lapsed" in late.staff_note
    refund = stripe_double.requests_to("POST", "/v1/refunds")[0]["params"]
    assert (refund["payment_intent"], int(refund["amount"])) == (session["payment_intent"], 24000)
    paid_seats = Seat.objects.filter(order__workshop=workshop, order__status=Order.Status.PAID, status="active").count()
    assert paid_seats == 2  # never oversold
    assert "refunded" in mail.outbox[0].subject


def test_async_payment_keeps_seats_then_fails_and_frees_them(post_webhook, stripe_double, pending_order):
    session = dict(stripe_double.sessions[pending_order.stripe_checkout_session_id], status="complete")
    post_webhook("checkout.session.completed", session)  # payment_status still "unpaid": bank transfer
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.PROCESSING
    post_webhook("checkout.session.async_payment_failed", session)
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.FAILED
    assert len(mail.outbox) == 0


def test_async_payment_success_fulfils(post_webhook, stripe_double, pending_order):
    session = dict(stripe_double.sessions[pending_order.stripe_checkout_session_id], status="complete")
    post_webhook("checkout.session.completed", session)
    session = completed(stripe_double, pending_order)
    post_webhook("checkout.session.async_payment_succeeded", session)
    pending_order.refresh_from_db()
    assert pending_order.status == Order.Status.PAID
    assert len(mail.outbox) == 1


def test_event_for_unknown_order_is_acknowledged_and_logged(post_webhook, stripe_double, caplog):
    response = post_webhook("checkout.session.completed", {"id": "cs_x", "client_reference_id": "ESL-NOPE", "payment_status": "paid"})
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == "unknown order"
    assert "unknown order" in caplog.text


def test_charge_refunded_in_stripe_dashboard_marks_order_refunded(post_webhook, stripe_double, workshop):
    order = OrderFactory(workshop=workshop, seat_count=2, stripe_payment_intent_id="pi_dash")
    post_webhook("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_dash", "amount_refunded": 24000})
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order_money(order=order).refunded_cents == 24000
    assert order.active_seat_count == 0


def test_unhandled_event_type_is_acknowledged(post_webhook, stripe_double):
    response = post_webhook("customer.created", {"id": "cus_1"})
    assert response.status_code == 200
    assert response.content == b"ignored"
