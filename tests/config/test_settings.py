import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(extra_env: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRIPE_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **extra_env})
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


FULL = {
    "DJANGO_SECRET_KEY": "x" * 60 + "-production-secret-for-the-check",
    "DJANGO_ALLOWED_HOSTS": "register.example.org",
    "STRIPE_SECRET_KEY": "sk_live_check",
    "STRIPE_WEBHOOK_SECRET": "whsec_check",
    "SITE_URL": "https://register.example.org",
    "CONTACT_EMAIL": "help@register.example.org",
    "DEFAULT_FROM_EMAIL": "Workshops <workshops@register.example.org>",
}


def test_production_settings_pass_the_deploy_check():
    result = run_check(FULL)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check({k: v for k, v in FULL.items() if k != "DJANGO_SECRET_KEY"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_check({k: v for k, v in FULL.items() if k != "DJANGO_ALLOWED_HOSTS"})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_refuses_to_start_without_stripe_keys():
    result = run_check({k: v for k, v in FULL.items() if k != "STRIPE_SECRET_KEY"})
    assert result.returncode != 0
    assert "STRIPE_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("name", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
@pytest.mark.parametrize("value", ["", "   "])
def test_production_refuses_to_start_with_an_empty_stripe_key(name, value):
    result = run_check({**FULL, name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


@pytest.mark.parametrize(
    ("missing", "warning"),
    [("SITE_URL", "support.W001"), ("CONTACT_EMAIL", "support.W002"), ("DEFAULT_FROM_EMAIL", "support.W003")],
)
def test_the_deploy_check_wants_the_sites_own_address_and_contact_details(missing, warning):
    result = run_check({k: v for k, v in FULL.items() if k != missing})
    assert result.returncode != 0
    assert warning in result.stderr
