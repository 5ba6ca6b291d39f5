"""Settings shared by every environment. Values that differ come from the environment."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "crispy_forms",
    "crispy_bootstrap5",
    "workshops",
    "registrations",
    "cohorts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "workshops.middleware.PublicPageCacheMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A writer waits for the lock instead of failing at once when two requests overlap.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_TAGS = {40: "danger"}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Affinity Workshops <hello@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Seconds each process keeps an anonymous visitor's copy of the public pages (workshops/middleware.py).
# Off by default, so tests and developers always see fresh pages; production turns it on.
PUBLIC_PAGE_CACHE_SECONDS = env.int("PUBLIC_PAGE_CACHE_SECONDS", default=0)

# Absolute base for links in emails and Stripe redirect URLs.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "Equity School Leadership"

# Stripe. With no secret key the site takes test payments itself and fulfils
# them through the same signed-webhook path (see registrations/stripe/client.py).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# Stripe is far away and sometimes down. Each call waits at most STRIPE_CONNECT_TIMEOUT_SECONDS to
# connect and STRIPE_TIMEOUT_SECONDS for the answer, and is retried STRIPE_MAX_NETWORK_RETRIES times
# (same idempotency key): 2 x (1 + 2.5) s + a 0.5 s pause = 7.5 s at most on the buyer's path
# (registrations.stripe.limits.call_budget_seconds). At most STRIPE_MAX_CONCURRENT_CALLS requests per
# process wait on Stripe at once; by default half of gunicorn's threads (gunicorn.conf.py), so the
# other half always serve pages, even while Stripe hangs.
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)
STRIPE_CONNECT_TIMEOUT_SECONDS = env.float("STRIPE_CONNECT_TIMEOUT_SECONDS", default=1.0)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=2.5)
STRIPE_MAX_CONCURRENT_CALLS = env.int(
    "STRIPE_MAX_CONCURRENT_CALLS", default=max(env.int("GUNICORN_THREADS", default=32) // 2, 1)
)
STRIPE_CURRENCY = "usd"

# How long a checkout holds its seats: Stripe's minimum Checkout Session lifetime.
CHECKOUT_HOLD_MINUTES = 30
MAX_SEATS_PER_ORDER = env.int("MAX_SEATS_PER_ORDER", default=50)
QUOTE_VALID_DAYS = env.int("QUOTE_VALID_DAYS", default=30)
# Pay by invoice: seats held (and the invoice due) this many days; a reminder this many days before.
INVOICE_HOLD_DAYS = env.int("INVOICE_HOLD_DAYS", default=14)
INVOICE_REMINDER_DAYS = env.int("INVOICE_REMINDER_DAYS", default=3)
PREWORK_REMINDER_DAYS = env.int("PREWORK_REMINDER_DAYS", default=3)
SESSION_REMINDER_HOURS = env.int("SESSION_REMINDER_HOURS", default=24)
# Affinity-group choices and breakout placements are deleted this many days after a workshop's last session.
AFFINITY_RETENTION_DAYS = env.int("AFFINITY_RETENTION_DAYS", default=30)

# Emails and other after-payment work: rows in the database, run by `manage.py run_worker`.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "email"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # The Stripe SDK logs every request at INFO; failures are logged by registrations.stripe.client.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "stripe": {"level": "WARNING"}},
}
