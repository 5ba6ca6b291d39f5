from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from registrations.models import Order, StripeEvent
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)


def register(client, workshop, **kwargs):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(**kwargs))


def test_success_page_confirms_payment_before_the_webhook_arrives(client, workshop, stripe_double):
    register(client, workshop)
    order = Order.objects.get()
    stripe_double.pay(order.stripe_checkout_session_id)
    response = client.get(f"/orders/{order.token}/success/?session_id={order.stripe_checkout_session_id}", follow=True)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert "Paid" in response.content.decode()
    assert len(mail.outbox) == 1


def test_success_page_ignores_a_session_id_of_another_order(client, workshop, stripe_double):
    register(client, workshop)
    order = Order.objects.get()
    client.get(f"/orders/{order.token}/success/?session_id=cs_test_someone_else")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not stripe_double.requests_to("GET", "/v1/checkout/sessions/")


def test_success_then_webhook_sends_one_email(client, workshop, stripe_double, post_webhook):
    register(client, workshop)
    order = Order.objects.get()
    session = stripe_double.pay(order.stripe_checkout_session_id)
    client.get(f"/orders/{order.token}/success/?session_id={order.stripe_checkout_session_id}")
    post_webhook("checkout.session.completed", session)
    assert len(mail.outbox) == 1


def test_unpaid_session_on_success_page_leaves_order_pending(client, workshop, stripe_double):
    register(client, workshop)
    order = Order.objects.get()
    response = client.get(f"/orders/{order.token}/success/?session_id={order.stripe_checkout_session_id}", follow=True)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert "Continue to payment" in response.content.decode()


def test_cancel_releases_hold_and_brings_back_the_form(client, stripe_double):
    workshop = WorkshopFactory(capacity=3)
    register(client, workshop, seat_count=3, attendees=[("Ana Diaz", "ana@lincoln.example")])
    order = Order.objects.get()
    response = client.get(f"/orders/{order.token}/cancel/", follow=True)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    html = response.content.decode()
    assert "Payment cancelled and your seats released" in html
    assert 'value="Maya Johnson"' in html and 'value="Lincoln Middle School"' in html
    assert 'value="3"' in html
    assert 'value="Ana Diaz"' not in html  # only the buyer's own details come back (issue 15)
    assert "3 seats left" in html
    expire_calls = stripe_double.requests_to("POST", f"/v1/checkout/sessions/{order.stripe_checkout_session_id}/expire")
    assert len(expire_calls) == 1


def test_lapsed_hold_frees_seats_without_any_job(client, stripe_double):
    workshop = WorkshopFactory(capacity=2)
    register(client, workshop, seat_count=2)
    assert "sold out" in client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=32)):
        html = client.get(workshop.get_absolute_url()).content.decode()
    assert "2 seats left" in html


@pytest.mark.parametrize("status", [500, 402, 400])
def test_stripe_error_keeps_order_and_offers_retry(client, workshop, stripe_double, status, caplog):
    stripe_double.fail_next(status=status, path_prefix="/v1/checkout/sessions")
    response = register(client, workshop, seat_count=2)
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.token}/"
    page = client.get(response["Location"]).content.decode()
    assert "We could not reach our payment provider" in page
    assert "Continue to payment" in page
    assert "Stripe refused or failed checkout" in caplog.text
    retry = client.post(f"/orders/{order.token}/pay/")
    order.refresh_from_db()
    assert retry["Location"] == f"https://checkout.stripe.test/c/pay/{order.stripe_checkout_session_id}"


def test_checkout_attempts_count_the_failed_one_and_the_retry(client, workshop, stripe_double):
    stripe_double.fail_next(status=402, path_prefix="/v1/checkout/sessions")
    register(client, workshop)
    order = Order.objects.get()
    assert (order.checkout_attempts, order.stripe_checkout_session_id) == (1, "")
    client.post(f"/orders/{order.token}/pay/")
    order.refresh_from_db()
    assert order.checkout_attempts == 2 and order.stripe_checkout_session_id


def test_unreachable_stripe_keeps_order(client, workshop, stripe_double, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = register(client, workshop)
    assert Order.objects.get().status == Order.Status.PENDING
    assert response["Location"].startswith("/orders/")


def test_stripe_timeout_keeps_order(client, workshop, stripe_double, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 1
    stripe_double.fail_next(status=-1, delay=2, path_prefix="/v1/checkout/sessions")
    response = register(client, workshop)
    assert response["Location"].startswith("/orders/")
    assert Order.objects.get().status == Order.Status.PENDING


def test_retry_within_the_hold_reuses_the_idempotency_key(client, workshop, stripe_double):
    register(client, workshop)
    order = Order.objects.get()
    first = order.stripe_checkout_session_id
    client.post(f"/orders/{order.token}/pay/")
    order.refresh_from_db()
    keys = {r["idempotency_key"] for r in stripe_double.requests_to("POST", "/v1/checkout/sessions")}
    assert len(keys) == 1
    assert order.stripe_checkout_session_id == first


def test_retry_after_hold_lapsed_renews_it_when_seats_are_free(client, workshop, stripe_double):
    register(client, workshop)
    order = Order.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        client.post(f"/orders/{order.token}/pay/")
        order.refresh_from_db()
        assert order.hold_expires_at > timezone.now() + timedelta(minutes=30)
    assert len(stripe_double.sessions) == 2


def test_retry_after_hold_lapsed_and_seats_gone_says_so(client, stripe_double):
    workshop = WorkshopFactory(capacity=1)
    register(client, workshop)
    first = Order.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        client.logout()
        register(client, workshop, buyer_email="other@x.example")
        response = client.post(f"/orders/{first.token}/pay/", follow=True)
    assert "this workshop is sold out" in response.content.decode().lower()
    assert Order.objects.filter(status=Order.Status.PENDING).count() == 2


def test_without_stripe_key_a_test_payment_completes_through_signed_webhook(client, workshop, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = register(client, workshop, seat_count=5)
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.token}/test-payment/"
    page = client.get(response["Location"]).content.decode()
    assert "Test payment" in page and "$500.00" in page
    client.post(response["Location"])
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.is_test_payment
    event = StripeEvent.objects.get()
    assert (event.type, event.outcome) == ("checkout.session.completed", "order paid")
    assert len(mail.outbox) == 1 and "test payment" in mail.outbox[0].body


def test_test_payment_page_is_off_when_stripe_is_configured(client, workshop, stripe_double):
    register(client, workshop)
    order = Order.objects.get()
    assert client.get(f"/orders/{order.token}/test-payment/").status_code == 404


def test_order_page_404s_for_wrong_or_malformed_token(client, workshop, stripe_double):
    register(client, workshop)
    order = Order.objects.get()
    assert client.get(f"/orders/{order.token[:-1]}x/").status_code == 404
    assert client.get("/orders/../../etc/passwd/").status_code == 404
    assert client.get("/orders/1/").status_code == 404


def test_confirmation_email_lists_sessions_and_order_link(client, workshop, stripe_double, post_webhook):
    register(client, workshop, seat_count=2, attendees=[("Ana Diaz", "ana@lincoln.example")])
    order = Order.objects.get()
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    buyer_mail = next(m for m in mail.outbox if m.to == ["maya@lincoln.example"])
    assert f"/orders/{order.token}/" in buyer_mail.body
    assert "4:00–6:00 PM Pacific Time (P" in buyer_mail.body
    welcome = next(m for m in mail.outbox if m.to == ["ana@lincoln.example"])
    seat = order.seats.get(attendee_email="ana@lincoln.example")
    assert f"/seats/{seat.token}/" in welcome.body
