"""Stripe far away or hanging: each call has a time budget, and only so many requests per process wait on Stripe.

The real SDK talks to the Stripe test double, slowed down with its latency knob or hung.
"""

import http.server
import socket
import threading
import time
import urllib.request

import pytest
from django.db import connection
from django.test import Client

from registrations.models import Order
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)

# 2 attempts x (0.5 s to connect + 1 s for the answer) + the SDK's 0.5 s pause between them.
BUDGET = 3.5


@pytest.fixture
def short_budget(settings, stripe_double):
    settings.STRIPE_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.STRIPE_TIMEOUT_SECONDS = 1
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    yield
    stripe_double.end_hang()


def register(client, workshop, **overrides):
    started = time.monotonic()
    response = client.post(f"/workshops/{workshop.slug}/register/", registration_data(**overrides))
    return response, time.monotonic() - started


def session_creates(stripe_double) -> list[dict]:
    return stripe_double.requests_to("POST", "/v1/checkout/sessions")


def wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_far_away_stripe_still_sends_the_buyer_to_checkout(client, workshop, stripe_double, short_budget):
    stripe_double.set_latency(0.4)
    response, elapsed = register(client, workshop)
    assert response["Location"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    assert elapsed >= 0.4
    assert len(session_creates(stripe_double)) == 1


def test_a_hung_stripe_is_given_up_within_the_time_budget(client, workshop, stripe_double, short_budget):
    stripe_double.hang()
    response, elapsed = register(client, workshop)
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.token}/"
    # Both attempts waited their whole answer timeout (1 s each), and no longer than the budget in all.
    assert 2.0 <= elapsed <= BUDGET + 0.5
    keys = [r["idempotency_key"] for r in session_creates(stripe_double)]
    assert len(keys) == 2 and len(set(keys)) == 1


def test_a_buyer_who_waited_out_the_budget_sees_the_retry_page(client, workshop, stripe_double, short_budget):
    stripe_double.hang()
    response, _ = register(client, workshop)
    page = client.get(response["Location"]).content.decode()
    assert "We could not reach our payment provider" in page
    assert "Continue to payment" in page
    assert Order.objects.get().status == Order.Status.PENDING


def test_retry_after_the_hang_gets_the_session_stripe_made_meanwhile(client, workshop, stripe_double, short_budget):
    stripe_double.hang()
    register(client, workshop)
    order = Order.objects.get()
    stripe_double.end_hang()  # Stripe answers the held requests late: it did open a session for them
    wait_until(lambda: stripe_double.state()["held"] == 0)
    retry = client.post(f"/orders/{order.token}/pay/")
    order.refresh_from_db()
    assert retry["Location"] == f"https://checkout.stripe.test/c/pay/{order.stripe_checkout_session_id}"
    assert len(stripe_double.sessions) == 1


def test_a_buyer_over_the_cap_is_answered_at_once_without_calling_stripe(workshop, stripe_double, short_budget, settings):
    settings.STRIPE_MAX_CONCURRENT_CALLS = 1
    stripe_double.hang()
    first: dict = {}

    def buyer_waiting_on_stripe():
        try:
            first["response"], _ = register(Client(), workshop, buyer_email="first@lincoln.example")
        finally:
            connection.close()

    thread = threading.Thread(target=buyer_waiting_on_stripe)
    thread.start()
    try:
        wait_until(lambda: len(session_creates(stripe_double)) == 1)
        response, elapsed = register(Client(), workshop, buyer_email="second@lincoln.example")
        second = Order.objects.get(buyer_email="second@lincoln.example")
        assert response["Location"] == f"/orders/{second.token}/"
        assert elapsed < 1.0
        assert len(session_creates(stripe_double)) == 1
    finally:
        stripe_double.end_hang()
        thread.join(timeout=10)
    assert first["response"].status_code == 302


def test_a_buyer_over_the_cap_sees_the_retry_page(workshop, stripe_double, short_budget, settings):
    settings.STRIPE_MAX_CONCURRENT_CALLS = 1
    stripe_double.hang()
    def buyer_waiting_on_stripe():
        try:
            register(Client(), workshop, buyer_email="first@lincoln.example")
        finally:
            connection.close()

    thread = threading.Thread(target=buyer_waiting_on_stripe)
    thread.start()
    try:
        wait_until(lambda: len(session_creates(stripe_double)) == 1)
        client = Client()
        response, _ = register(client, workshop, buyer_email="second@lincoln.example")
        page = client.get(response["Location"])
    finally:
        stripe_double.end_hang()
        thread.join(timeout=10)
    assert page.status_code == 200
    assert "We could not reach our payment provider" in page.content.decode()


def test_a_call_that_ran_out_of_time_gives_its_place_back(client, workshop, stripe_double, short_budget, settings):
    settings.STRIPE_MAX_CONCURRENT_CALLS = 1
    stripe_double.hang()
    register(client, workshop, buyer_email="first@lincoln.example")
    stripe_double.end_hang()
    response, _ = register(client, workshop, buyer_email="second@lincoln.example")
    assert response["Location"].startswith("https://checkout.stripe.test/c/pay/")


class _ForwardingProxy(http.server.ThreadingHTTPServer):
    """An outbound HTTP proxy: takes absolute-form requests, forwards them, and remembers the addresses."""

    def __init__(self):
        self.seen: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                proxy.seen.append(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")}
                request = urllib.request.Request(self.path, data=body, headers=headers, method="POST")
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as answer:
                    payload = answer.read()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.headers["Content-Type"])
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_stripe_calls_go_through_the_proxy_the_settings_name(client, workshop, stripe_double, short_budget, settings):
    proxy = _ForwardingProxy()
    settings.STRIPE_PROXY = proxy.url
    try:
        response, _ = register(client, workshop)
    finally:
        proxy.shutdown()
    assert response["Location"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    assert proxy.seen == [f"{stripe_double.url}/v1/checkout/sessions"]


def test_a_proxy_that_is_down_gets_the_buyer_the_retry_page(client, workshop, stripe_double, short_budget, settings):
    settings.STRIPE_PROXY = f"http://127.0.0.1:{_closed_port()}"
    response, elapsed = register(client, workshop)
    assert response["Location"] == f"/orders/{Order.objects.get().token}/"
    assert "We could not reach our payment provider" in client.get(response["Location"]).content.decode()
    assert session_creates(stripe_double) == []


def test_proxy_variables_in_the_environment_are_not_what_reaches_stripe(client, workshop, stripe_double, short_budget, monkeypatch):
    # The Stripe client does not read the environment on each call (it costs a fifth of the call's CPU): a proxy
    # for Stripe is STRIPE_PROXY. Here the environment names a proxy that is down, and checkout still works.
    dead = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    response, _ = register(client, workshop)
    assert response["Location"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
