"""gunicorn as production runs it (gunicorn.conf.py, production settings, PostgreSQL) while Stripe hangs.

One small server: 1 worker with 4 threads, so at most 2 requests may wait on Stripe; a Stripe
call gives up after 2.5 s (0.5 s to connect + 2 s for the answer, no retry). Five buyers arrive
while the Stripe test double hangs, then the pages are read.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.client import HTTPConnection
from pathlib import Path

import psycopg
import pytest

from tests.server_config import clean_env, stop
from tests.stripe_double import StripeDouble

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
SLUG = "using-racial-affinity-groups-in-schools"
BUDGET = 2.5
BUYERS = 5
CAP = 3  # three quarters of the 4 threads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port: int, method: str, path: str, body: str | None = None, headers: dict | None = None):
    conn = HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read(), time.monotonic() - started
    finally:
        conn.close()


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def outage():
    base_url = os.environ["DATABASE_URL"]
    parts = urllib.parse.urlsplit(base_url)
    admin_url = parts._replace(path="/postgres").geturl()
    db_name = f"gthread_{secrets.token_hex(4)}"
    port = free_port()
    double = StripeDouble().start()
    env = clean_env(
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="False",
        DATABASE_URL=parts._replace(path=f"/{db_name}").geturl(),
        STRIPE_SECRET_KEY="sk_test_outage",
        STRIPE_API_BASE=double.url,
        SITE_URL=f"http://127.0.0.1:{port}",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="4",
        STRIPE_CONNECT_TIMEOUT_SECONDS="0.5",
        STRIPE_TIMEOUT_SECONDS="2",
        STRIPE_MAX_NETWORK_RETRIES="0",
    )
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    server = None
    try:
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["seed_demo"]):
            subprocess.run([sys.executable, "manage.py", *command, "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        assert wait_until(lambda: _answers(port), 30), "gunicorn did not come up"
        yield _run_outage(port, double)
    finally:
        double.end_hang()
        if server is not None:
            stop(server)
        double.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _answers(port: int) -> bool:
    try:
        return http(port, "GET", "/healthz/")[0] == 200
    except OSError:
        return False


def _run_outage(port: int, double: StripeDouble) -> dict:
    register = f"/workshops/{SLUG}/register/"
    _, headers, body, _ = http(port, "GET", register)
    cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"}
    buyers: list[tuple[int, str, float]] = []

    def buy(i: int) -> None:
        form = urllib.parse.urlencode({
            "csrfmiddlewaretoken": token, "buyer_name": f"Buyer {i}", "buyer_email": f"buyer{i}@outage.example",
            "organisation": "District", "role": "teacher", "seat_count": "1", "buyer_attends": "on",
            "attendees-TOTAL_FORMS": "0", "attendees-INITIAL_FORMS": "0",
        })
        status, response_headers, _, elapsed = http(port, "POST", register, form, form_headers)
        buyers.append((status, response_headers.get("Location", ""), elapsed))

    double.hang()
    threads = [threading.Thread(target=buy, args=(i,)) for i in range(BUYERS)]
    for thread in threads:
        thread.start()
    # Pages are read once the capped buyers wait on Stripe and the others have been turned away.
    waiting = wait_until(lambda: double.state()["held"] == CAP and len(buyers) == BUYERS - CAP, 10)
    pages = {path: http(port, "GET", path) for path in ("/healthz/", f"/workshops/{SLUG}/", register)}
    held_while_reading = double.state()["held"]
    for thread in threads:
        thread.join(timeout=30)
    session_requests = len(double.requests_to("POST", "/v1/checkout/sessions"))
    double.end_hang()
    wait_until(lambda: double.state()["held"] == 0, 10)
    retry = None
    friendly = [location for status, location, _ in buyers if location.startswith("/orders/")]
    if friendly:
        status, retry_headers, _, _ = http(port, "POST", f"{friendly[0]}pay/", f"csrfmiddlewaretoken={token}", form_headers)
        retry = (status, retry_headers.get("Location", ""))
    return {
        "waiting": waiting,
        "held_while_reading": held_while_reading,
        "pages": {path: (status, elapsed) for path, (status, _, _, elapsed) in pages.items()},
        "buyers": buyers,
        "session_requests": session_requests,
        "retry": retry,
    }


def test_pages_are_served_at_once_while_buyers_wait_on_a_hung_stripe(outage):
    assert outage["waiting"] and outage["held_while_reading"] == CAP
    for path, (status, elapsed) in outage["pages"].items():
        assert status == 200, path
        assert elapsed < 1.0, f"{path} took {elapsed:.2f} s"


def test_every_buyer_gets_the_retry_page_within_the_budget(outage):
    assert len(outage["buyers"]) == BUYERS
    for status, location, elapsed in outage["buyers"]:
        assert status == 302 and location.startswith("/orders/")
        assert elapsed <= BUDGET + 1.0


def test_only_the_capped_number_of_buyers_wait_on_stripe(outage):
    assert outage["session_requests"] == CAP
    answered_at_once = [elapsed for _, _, elapsed in outage["buyers"] if elapsed < 1.0]
    assert len(answered_at_once) == BUYERS - CAP


def test_a_buyer_can_pay_once_stripe_is_back(outage):
    status, location = outage["retry"]
    assert status == 302
    assert location.startswith("https://checkout.stripe.test/c/pay/")
