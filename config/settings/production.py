"""Production: every secret and host from the environment; refuses to boot without them."""

from django.core.exceptions import ImproperlyConfigured

from config.stripe_cap import stripe_cap_problem

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS to the site's host names.")


def _non_empty(name: str) -> str:
    # env() refuses a missing variable but accepts an empty one (STRIPE_SECRET_KEY= in a .env file).
    value = env(name).strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is set but empty; production needs the live Stripe value.")
    return value


# Real payments only: without keys production would fall back to test payments.
STRIPE_SECRET_KEY = _non_empty("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = _non_empty("STRIPE_WEBHOOK_SECRET")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# A registration rush reads the same few pages hundreds of times a second; a copy two seconds old is fine.
PUBLIC_PAGE_CACHE_SECONDS = env.int("PUBLIC_PAGE_CACHE_SECONDS", default=2)

# The threads that are not waiting on Stripe serve the pages: a cap of as many as a process has threads (one
# thread, or an override) would let a Stripe outage stop every page. gunicorn.conf.py passes the thread count
# it runs with (a --threads flag included) to the workers as GUNICORN_THREADS.
_cap_problem = stripe_cap_problem(threads=env.int("GUNICORN_THREADS", default=16), cap=STRIPE_MAX_CONCURRENT_CALLS)  # noqa: F405
if _cap_problem:
    raise ImproperlyConfigured(_cap_problem)

# A copy of base's database settings: importing this module (a test does) must not change base's dict.
DATABASES = {"default": {**DATABASES["default"], "CONN_HEALTH_CHECKS": True}}  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DATABASE_POOL", default=True):
    # One pool per gunicorn worker, shared by its threads (gunicorn.conf.py). A request holds a
    # connection only while it uses the database: one waiting on Stripe gives it back (see
    # registrations/stripe/limits.py). 2 servers x 4 workers x 6 = 48 connections at most, and 72
    # while one of them reloads (its old and new workers overlap), within PostgreSQL's default
    # max_connections of 100 with room for workers and commands (tests/config/test_server_config.py).
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=6),
            # Waiting longer than this for a connection means the database is overloaded: fail the request.
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        },
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)

# Only behind a proxy that sets this header itself (and strips it from what visitors send); otherwise a
# visitor could claim HTTPS. Example: DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
_proxy_ssl_header = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("DJANGO_SECURE_PROXY_SSL_HEADER is a header and a value, e.g. HTTP_X_FORWARDED_PROTO,https")
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
