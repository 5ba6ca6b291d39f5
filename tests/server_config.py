"""Read the production server configuration as a deployment would: gunicorn.conf.py and production settings."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x" * 60 + "-production-secret-for-the-test",
    "DJANGO_ALLOWED_HOSTS": "register.example.org",
    "STRIPE_SECRET_KEY": "sk_live_check",
    "STRIPE_WEBHOOK_SECRET": "whsec_check",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
}
# Variables that would change the defaults under test if this machine happened to set them.
OVERRIDES = ("WEB_CONCURRENCY", "GUNICORN_", "STRIPE_", "DATABASE_", "DJANGO_")


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OVERRIDES)}
    return {**env, **PRODUCTION_ENV, **extra}


def gunicorn_config(**extra: str) -> dict:
    """The names gunicorn.conf.py sets, read with a clean environment plus `extra`."""
    with mock.patch.dict(os.environ, clean_env(**extra), clear=True):
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def production_settings(**extra: str) -> dict:
    """A few production settings and the Stripe time budget, from a fresh process."""
    code = (
        "import json; from django.conf import settings as s;"
        "from registrations.stripe.limits import call_budget_seconds;"
        "db = s.DATABASES['default'];"
        "print(json.dumps({'pool': db.get('OPTIONS', {}).get('pool'), 'conn_max_age': db['CONN_MAX_AGE'],"
        "'stripe_budget': call_budget_seconds(), 'stripe_cap': s.STRIPE_MAX_CONCURRENT_CALLS}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env=clean_env(**extra), capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def stop(server: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a server the way a deploy does: SIGTERM, and SIGKILL if it is not gone within `timeout` seconds."""
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
