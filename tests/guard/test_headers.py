"""Finding 7: a Content-Security-Policy without inline scripts, a Permissions-Policy, no caching of any page
behind a private link, and SECURE_PROXY_SSL_HEADER only when configured."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cohorts.factories import WaitlistEntryFactory
from tests.factories import OrderFactory

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
# The hashed-name manifest comes from collectstatic at deploy; the headers do not depend on it.
settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
out = {"proxy_ssl_header": settings.SECURE_PROXY_SSL_HEADER}
for name, path in [("health", "/healthz/"), ("order", "/orders/not!a!token/"), ("seat", "/seats/not!a!token/")]:
    response = client.get(path, secure=True)
    out[name] = {"status": response.status_code, "headers": dict(response.items())}
print(json.dumps(out))
"""


def _production(**env) -> dict:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "STRIPE_SECRET_KEY": "sk_test_headers",
        "STRIPE_WEBHOOK_SECRET": "whsec_headers",
        "DATABASE_URL": "sqlite://:memory:",
        **env,
    }
    if "DJANGO_SECURE_PROXY_SSL_HEADER" not in env:
        environment.pop("DJANGO_SECURE_PROXY_SSL_HEADER", None)
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production():
    return _production()


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


def test_finding_7_production_responses_carry_a_csp_without_inline_scripts(production):
    policy = production["health"]["headers"]["Content-Security-Policy"]
    directives = _directives(policy)
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]


def test_finding_7_production_responses_carry_a_permissions_policy(production):
    policy = production["health"]["headers"]["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


def test_finding_7_production_token_pages_are_never_stored(production):
    for page in ("order", "seat"):
        assert production[page]["status"] == 404
        assert "no-store" in production[page]["headers"]["Cache-Control"]


def test_production_trusts_no_proxy_header_unless_told_to(production):
    assert production["proxy_ssl_header"] is None
    configured = _production(DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https")
    assert configured["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.django_db
def test_every_page_behind_a_token_says_no_store(client):
    order = OrderFactory(seat_count=1, seats=["Ana Diaz"])
    seat = order.seats.get()
    entry = WaitlistEntryFactory()
    for url in (
        f"/orders/{order.token}/",
        f"/seats/{seat.token}/",
        f"/seats/{seat.token}/calendar.ics",
        entry.get_absolute_url(),
        entry.get_invitation_url(),
        f"/workshops/{order.workshop.slug}/register/?from={order.token}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


@pytest.mark.django_db
def test_public_pages_stay_cacheable(client, workshop):
    response = client.get(f"/workshops/{workshop.slug}/")
    assert "no-store" not in response.get("Cache-Control", "")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_no_template_has_inline_scripts_handlers_or_styles():
    """What the CSP forbids must not be in a template in the first place (json_script data is not run)."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        # Emails are read in mail clients, not under the site's CSP, and most clients honour only inline styles.
        is_email = "emails" in path.parts or "email" in path.parts
        for pattern, what in ((INLINE_SCRIPT, "inline script"), (HANDLER, "event handler"),
                              (re.compile(r"<style|\sstyle=", re.I), "inline style"),
                              (re.compile(r"javascript:", re.I), "javascript: URL")):
            if what == "inline style" and is_email:
                continue
            if pattern.search(text):
                found.append(f"{path.relative_to(ROOT)}: {what}")
    assert found == []
