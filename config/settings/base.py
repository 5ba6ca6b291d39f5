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
    "support",
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
    "workshops.site.RequestSiteURLMiddleware",
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
                "workshops.context_processors.organisation",
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
# Emails go out under the organisation's name (SITE_NAME) from this address; replies go to CONTACT_EMAIL.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Equity School Leadership <workshops@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Seconds each process keeps an anonymous visitor's copy of the public pages (workshops/middleware.py).
# Off by default, so tests and developers always see fresh pages; production turns it on.
PUBLIC_PAGE_CACHE_SECONDS = env.int("PUBLIC_PAGE_CACHE_SECONDS", default=0)

# Absolute base for links in emails and Stripe redirect URLs. Unset on a developer's machine:
# links are then built from the request being served (workshops/site.py), and work done outside
# a request (the email worker) uses LOCAL_SITE_URL, which `make run PORT=…` sets for its worker.
SITE_URL = env("SITE_URL", default="").rstrip("/")
LOCAL_SITE_URL = env("LOCAL_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "Equity School Leadership"

# Who buyers and attendees write to: the footer of every page and every email, and Reply-To.
CONTACT_EMAIL = env("CONTACT_EMAIL", default="workshops@example.org")
# The supplier on quotes and receipts. SUPPLIER_ADDRESS lines are separated by "|".
SUPPLIER_LEGAL_NAME = env("SUPPLIER_LEGAL_NAME", default=SITE_NAME)
SUPPLIER_ADDRESS = env("SUPPLIER_ADDRESS", default="")
SUPPLIER_TAX_ID = env("SUPPLIER_TAX_ID", default="")

# "Email me my links": requests allowed per hour from one address and for one email.
LINKS_REQUESTS_PER_IP_PER_HOUR = env.int("LINKS_REQUESTS_PER_IP_PER_HOUR", default=10)
LINKS_REQUESTS_PER_EMAIL_PER_HOUR = env.int("LINKS_REQUESTS_PER_EMAIL_PER_HOUR", default=3)
# Staff attach pre-work files up to this size; they are kept in the database so every app server has them.
PREWORK_FILE_MAX_BYTES = env.int("PREWORK_FILE_MAX_BYTES", default=10 * 1024 * 1024)

# Stripe. With no secret key the site takes test payments itself and fulfils
# them through the same signed-webhook path (see registrations/stripe/client.py).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20)
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
