"""Test run: fast hashing, mail kept in memory, Stripe pointed at the local test double by fixtures."""

import secrets

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
STRIPE_SECRET_KEY = ""
STRIPE_WEBHOOK_SECRET = ""
STRIPE_API_BASE = ""
STRIPE_MAX_NETWORK_RETRIES = 0
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Tasks run right after the enqueuing transaction commits (what the worker does, minus the
# wait). Reliability tests switch to the real database backend and run the real worker.
TASKS = {"default": {"BACKEND": "tests.tasks_backend.ImmediateOnCommitBackend", "QUEUES": ["default", "email"]}}

# Rate limits: the shared store is the test database (rolled back or flushed after each test); limits
# are high so tests that post a form many times are not stopped. Tests about limits set their own.
RATE_LIMIT_DEFAULT = {"per_address": 1000, "per_email": 1000, "window_seconds": 3600}
