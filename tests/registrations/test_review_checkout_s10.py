"""Hostile review of the tenth session's cheaper checkout start (eb98996, af95337): the Checkout Session made with the
SDK's raw_request, token addresses built once per process, the redirect without redirect(), the lock and the seat
count in one round trip, the forms' quick copies, and the schedule line kept per process.

Each test goes through the public surface: the registration page, the order page, the Stripe test double."""

import itertools
import json
import re
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from registrations.models import Order
from registrations.selectors.availability import seats_taken
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import register_at_once, registration_data

pytestmark = pytest.mark.django_db(transaction=True)

RETRY_TEXT = "We could not reach our payment provider"


def register(client, workshop, **data):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(**data))


def answer_sessions_with(monkeypatch, stripe_double, body: bytes) -> None:
    """The double creates the Checkout Session as Stripe would, then answers its creation with `body` (status 200)."""
    original = stripe_double._send

    def send(handler, status, payload, replay=False):
        if isinstance(payload, dict) and payload.get("object") == "checkout.session":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        return original(handler, status, payload, replay)

    monkeypatch.setattr(stripe_double, "_send", send)


# --- Stripe's answers to the raw request ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 400, 402])
def test_a_refused_session_keeps_the_hold_and_offers_the_retry(client, workshop, stripe_double, status):
    stripe_double.fail_next(status=status, path_prefix="/v1/checkout/sessions")
    response = register(client, workshop, seat_count=2)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.token}/"
    assert RETRY_TEXT in client.get(response["Location"]).content.decode()
    order.refresh_from_db()
    assert (order.status, order.checkout_attempts, order.stripe_checkout_session_id) == (Order.Status.PENDING, 1, "")


def test_a_session_in_progress_at_stripe_is_not_called_an_outage(client, workshop, stripe_double):
    stripe_double.fail_next(status=409, path_prefix="/v1/checkout/sessions")
    response = register(client, workshop)
    page = client.get(response["Location"]).content.decode()
    assert RETRY_TEXT not in page and "already being opened" in page


def test_the_raw_request_sends_what_the_typed_call_sent(client, workshop, stripe_double):
    """Form-encoded nested parameters, the idempotency key, the success address with Stripe's placeholder."""
    register(client, workshop, seat_count=3)
    order = Order.objects.get()
    [sent] = stripe_double.requests_to("POST", "/v1/checkout/sessions")
    params = sent["params"]
    item = params["line_items"][0]
    assert (item["quantity"], item["price_data"]["unit_amount"]) == ("3", str(order.unit_price_cents))
    assert params["client_reference_id"] == order.reference
    assert params["metadata"] == {"order_reference": order.reference}
    assert params["payment_intent_data"] == {"metadata": {"order_reference": order.reference}}
    assert params["success_url"].endswith(f"/orders/{order.token}/success/?session_id={{CHECKOUT_SESSION_ID}}")
    assert params["cancel_url"].endswith(f"/orders/{order.token}/cancel/")
    assert sent["idempotency_key"] == f"checkout-{order.reference}-{int(order.hold_expires_at.timestamp())}"
    assert order.stripe_checkout_url == stripe_double.sessions[order.stripe_checkout_session_id]["url"]


def test_a_truncated_answer_gives_the_retry_page(client, workshop, stripe_double, monkeypatch):
    answer_sessions_with(monkeypatch, stripe_double, b'{"id": "cs_test_1", "url": "https://checkout.str')
    response = Client(raise_request_exception=False).post(
        f"/workshops/{workshop.slug}/register/", registration_data()
    )
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.token}/"


def test_an_answer_without_an_address_gives_the_retry_page(client, workshop, stripe_double, monkeypatch):
    """Stripe answers 200 with a session but no `url` (an API version or a proxy that drops it): there is nowhere to
    send the buyer, so they get the retry page, not a redirect to nowhere or a server error."""
    answer_sessions_with(monkeypatch, stripe_double, json.dumps({"id": "cs_test_nourl", "object": "checkout.session",
                                                                 "status": "open"}).encode())
    response = Client(raise_request_exception=False).post(
        f"/workshops/{workshop.slug}/register/", registration_data()
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.token}/"
    order.refresh_from_db()
    assert order.stripe_checkout_url == ""


@pytest.mark.parametrize("body", [b"[]", b"null", b'"cs_test_1"'])
def test_an_answer_that_is_not_a_session_gives_the_retry_page(client, workshop, stripe_double, monkeypatch, body):
    answer_sessions_with(monkeypatch, stripe_double, body)
    response = Client(raise_request_exception=False).post(
        f"/workshops/{workshop.slug}/register/", registration_data()
    )
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.token}/"


def test_without_a_stripe_key_the_buyer_goes_to_the_local_payment_page(client, workshop, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = register(client, workshop)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.token}/test-payment/"


# --- Token addresses ------------------------------------------------------------------------------------------------


def test_the_order_page_address_and_stripe_addresses_name_the_same_order(client, workshop, stripe_double):
    register(client, workshop)
    order = Order.objects.get()
    [sent] = stripe_double.requests_to("POST", "/v1/checkout/sessions")
    assert client.get(order.get_absolute_url()).status_code == 200
    success = sent["params"]["success_url"].split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + success.replace("{CHECKOUT_SESSION_ID}", "cs_none")).status_code == 302
    cancel = "/" + sent["params"]["cancel_url"].split("://", 1)[1].split("/", 1)[1]
    assert client.get(cancel).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


# --- The lock and the count in one round trip (PostgreSQL) ----------------------------------------------------------


@pytest.mark.postgres
def test_buyers_racing_past_live_and_lapsed_holds_never_oversell(stripe_double, settings):
    """Capacity 6: 2 paid, a live hold of 1, a lapsed hold of 3 (counts nothing). Eight buyers from one network race
    for one seat each with a network cap of 2: two get seats, one more would break the cap, none oversells."""
    settings.CHECKOUT_HOLD_SEATS_PER_NETWORK = 2
    workshop = WorkshopFactory(capacity=6)
    OrderFactory(workshop=workshop, seat_count=2)
    now = timezone.now()
    OrderFactory(workshop=workshop, seat_count=1, status=Order.Status.PENDING, paid_at=None, payment=False,
                 hold_expires_at=now + timedelta(minutes=30))
    OrderFactory(workshop=workshop, seat_count=3, status=Order.Status.PENDING, paid_at=None, payment=False,
                 hold_expires_at=now - timedelta(minutes=1))
    answers = register_at_once(
        workshop, [registration_data(buyer_email=f"b{n}@race.example") for n in range(8)],
        client=lambda: Client(REMOTE_ADDR="198.51.100.7"),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [302, 302] + [400] * 6
    assert seats_taken(workshop_id=workshop.pk) == 5
    assert len(stripe_double.sessions) == 2


@pytest.mark.postgres
def test_the_last_seats_go_to_one_of_two_racing_teams(stripe_double):
    workshop = WorkshopFactory(capacity=10)
    OrderFactory(workshop=workshop, seat_count=7)
    hosts = itertools.count(1)
    answers = register_at_once(
        workshop, [registration_data(seat_count=3, buyer_email="a@race.example"),
                   registration_data(seat_count=3, buyer_email="b@race.example")],
        client=lambda: Client(REMOTE_ADDR=f"192.0.2.{next(hosts)}"),
    )
    assert sorted(a.status_code for a in answers) == [200, 302]
    assert seats_taken(workshop_id=workshop.pk) == 10


@pytest.mark.postgres
def test_one_page_sent_from_four_threads_at_once_places_one_order(stripe_double):
    workshop = WorkshopFactory(capacity=40)
    client = Client()
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    ).group(1)
    form = {**registration_data(seat_count=2), "csrfmiddlewaretoken": token}
    cookies = client.cookies

    def same_browser():
        browser = Client()
        browser.cookies = cookies
        return browser
    answers = register_at_once(workshop, [form] * 4, client=same_browser)
    assert [a.status_code for a in answers] == [302] * 4
    assert Order.objects.filter(workshop=workshop).count() == 1
    assert seats_taken(workshop_id=workshop.pk) == 2


# --- The forms' quick copies ----------------------------------------------------------------------------------------


def test_a_few_seats_left_on_one_workshop_do_not_cap_the_next_workshops_form(client):
    nearly_full = WorkshopFactory(capacity=3)
    OrderFactory(workshop=nearly_full, seat_count=1)
    roomy = WorkshopFactory(capacity=200)
    refused = register(client, nearly_full, seat_count=5)
    assert refused.status_code == 400 and "Only 2 seats left" in refused.content.decode()
    page = client.get(f"/workshops/{roomy.slug}/register/").content.decode()
    assert f'max="{django_settings.MAX_SEATS_PER_ORDER}"' in page
    assert 'data-seats-left="2"' not in page and "Only 2 seats left" not in page
    ok = register(client, roomy, seat_count=5, buyer_email="team@roomy.example")
    assert ok.status_code == 302


def test_one_requests_errors_do_not_reach_the_next_request(client, workshop):
    bad = register(client, workshop, role="dictator", buyer_email="not-an-email")
    text = bad.content.decode()
    assert bad.status_code == 400 and "Select a valid choice" in text and "Enter a valid email address" in text
    page = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert "Select a valid choice" not in page and "Enter a valid email address" not in page
    assert "Choose one…" in page and 'value="school_leader"' in page


def test_every_role_can_be_chosen(client, workshop, stripe_double):
    for n, (role, _label) in enumerate(Order.Role.choices):
        response = register(client, workshop, role=role, buyer_email=f"r{n}@roles.example")
        assert response.status_code == 302, role
    assert sorted(Order.objects.values_list("role", flat=True)) == sorted(r for r, _ in Order.Role.choices)


# --- The schedule line kept per process -----------------------------------------------------------------------------


def test_the_registration_page_shows_the_platform_staff_chose(client, workshop):
    assert "Live on Zoom" in client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    workshop.platform = "Microsoft Teams"
    workshop.save()
    page = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert "Live on Microsoft Teams" in page and "Live on Zoom" not in page


def test_stripe_is_told_the_schedule_as_it_stands(client, workshop, stripe_double):
    workshop.platform = "Teams"
    workshop.save()
    register(client, workshop)
    [sent] = stripe_double.requests_to("POST", "/v1/checkout/sessions")
    assert "Live on Teams" in sent["params"]["line_items"][0]["price_data"]["product_data"]["description"]
    session = workshop.sessions.order_by("starts_at").first()
    session.delete()
    register(client, workshop, buyer_email="second@lincoln.example")
    second = stripe_double.requests_to("POST", "/v1/checkout/sessions")[-1]
    description = second["params"]["line_items"][0]["price_data"]["product_data"]["description"]
    workshop.refresh_from_db()
    assert workshop.schedule in description and " and " not in workshop.schedule


@pytest.mark.postgres
def test_two_threads_refused_on_two_workshops_each_see_their_own_seat_limit():
    """The seat field's limit is set per form: two requests at once, one on a nearly full workshop, never show each
    other's limit (the forms' field and widget copies are their own)."""
    nearly_full = WorkshopFactory(capacity=3)
    OrderFactory(workshop=nearly_full, seat_count=1)
    roomy = WorkshopFactory(capacity=200)
    wrong: list = []

    def refuse_again_and_again(workshop, seats, expected_max):
        try:
            client = Client()
            for _ in range(25):
                page = register(client, workshop, seat_count=seats, buyer_email="x").content.decode()
                if f'max="{expected_max}"' not in page:
                    wrong.append((workshop.slug, expected_max))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=refuse_again_and_again, args=(nearly_full, 5, 2)),
        threading.Thread(target=refuse_again_and_again, args=(roomy, 5, django_settings.MAX_SEATS_PER_ORDER)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def _wsgi_get(path: str, script_name: str) -> tuple[str, dict]:
    """A GET through Django's own WSGI handler, as gunicorn calls it, mounted under `script_name`."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    environ = dict(RequestFactory().get(path).environ, SCRIPT_NAME=script_name)
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    b"".join(WSGIHandler()(environ, start_response))
    return answer["status"], answer["headers"]


def test_order_addresses_follow_each_requests_script_prefix(client, workshop):
    """The same process serves the site mounted at /shop and at /: each answer's links carry its own prefix."""
    from django.urls import set_script_prefix

    order = OrderFactory(workshop=workshop)
    try:
        for prefix in ("/shop", "", "/shop", "/other place", ""):
            status, headers = _wsgi_get(f"/orders/{order.token}/success/", prefix)
            expected = f"{prefix.replace(' ', '%20')}/orders/{order.token}/"
            assert (status, headers["Location"]) == ("302 Found", expected)
    finally:
        set_script_prefix("/")


def test_many_script_prefixes_do_not_grow_the_address_cache_without_bound(client, workshop):
    """A front end that passes SCRIPT_NAME through (gunicorn's SCRIPT_NAME header from a trusted proxy) must not let
    each new prefix keep addresses in memory for ever."""
    from django.urls import set_script_prefix

    from registrations.links import _around_token

    order = OrderFactory(workshop=workshop)
    try:
        for n in range(300):
            status, headers = _wsgi_get(f"/orders/{order.token}/success/", f"/p{n}")
            assert headers["Location"] == f"/p{n}/orders/{order.token}/"
    finally:
        set_script_prefix("/")
    assert _around_token.cache_info().currsize <= 128
