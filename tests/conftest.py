import os
import shutil

import pytest
import stripe
from django.db import connection

from tests.factories import WorkshopFactory
from tests.stripe_double import StripeDouble

WEBHOOK_SECRET = "whsec_test_double_secret"


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL row locks; set DATABASE_URL=postgres://… (CI does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)


@pytest.fixture(autouse=True)
def empty_local_cache():
    """Each test starts with an empty per-process cache (page cache, rendered form fields)."""
    from django.core.cache import caches

    caches["default"].clear()


@pytest.fixture(scope="session")
def stripe_server():
    double = StripeDouble().start()
    yield double
    double.stop()


@pytest.fixture
def stripe_double(stripe_server, settings):
    """Point the real SDK at the local Stripe test double, with a real webhook secret."""
    stripe_server.reset()
    settings.STRIPE_SECRET_KEY = "sk_test_double"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stripe_server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 5
    return stripe_server


@pytest.fixture
def workshop(db):
    return WorkshopFactory()


@pytest.fixture
def post_webhook(client):
    """Send an event to /stripe/webhook/ signed with Stripe's real scheme."""
    import json
    import secrets
    import time

    def send(event_type: str, data_object: dict, *, event_id: str | None = None, secret: str = WEBHOOK_SECRET,
             timestamp: int | None = None):
        payload = json.dumps(
            {
                "id": event_id or f"evt_{secrets.token_hex(12)}",
                "object": "event",
                "type": event_type,
                "created": int(time.time()),
                "data": {"object": data_object},
            }
        )
        header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
        return client.post(
            "/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )

    return send


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("staff", "staff@example.org", "pw", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def chromium_path() -> str | None:
    return shutil.which("chromium") or (os.path.exists("/usr/bin/chromium") and "/usr/bin/chromium") or None


@pytest.fixture
def db_vendor():
    return connection.vendor
