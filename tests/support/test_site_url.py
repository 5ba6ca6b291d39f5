"""With no SITE_URL (a developer's `make run PORT=8001`), absolute links come from the request being served."""

import pytest

from tests.factories import OrderFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db


def test_emailed_links_use_the_host_and_port_the_browser_used(client, workshop, settings, django_capture_on_commit_callbacks):
    from django.core import mail

    settings.SITE_URL = ""
    order = OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/orders/{order.token}/seats/2/",
            {"seat-2-name": "Ben Okafor", "seat-2-email": "ben@school.example"},
            HTTP_HOST="127.0.0.1:8001",
        )
    seat = order.seats.get(position=2)
    assert f"http://127.0.0.1:8001/seats/{seat.token}/" in mail.outbox[0].body
    assert "http://127.0.0.1:8001/links/" in mail.outbox[0].body


def test_stripe_is_sent_back_to_the_same_host_and_port(client, workshop, settings, stripe_double):
    settings.SITE_URL = ""
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(), HTTP_HOST="localhost:8001")
    params = stripe_double.requests_to("POST", "/v1/checkout/sessions")[0]["params"]
    assert params["success_url"].startswith("http://localhost:8001/orders/")
    assert params["cancel_url"].startswith("http://localhost:8001/orders/")


def test_a_set_site_url_always_wins(client, workshop, settings, stripe_double):
    settings.SITE_URL = "https://register.example.org"
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(), HTTP_HOST="localhost:8001")
    params = stripe_double.requests_to("POST", "/v1/checkout/sessions")[0]["params"]
    assert params["success_url"].startswith("https://register.example.org/orders/")


def test_make_run_takes_a_port():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "PORT ?= 8000" in makefile
    assert "runserver 127.0.0.1:$(PORT)" in makefile
    assert "LOCAL_SITE_URL=http://127.0.0.1:$(PORT) $(PY) manage.py run_worker" in makefile
