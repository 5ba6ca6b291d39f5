"""Settings shared by every environment. Values that differ come from the environment."""

from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    # Django's admin, with staff's own home page and sections (staff/sites.py).
    "staff.apps.StaffAdminConfig",
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
    "csp",
    "auditlog",
    "guard",
    "workshops",
    "registrations",
    "cohorts",
    "support",
    # Listed last: its post_migrate gives the Administrator group every app's permissions (staff/apps.py).
    "staff.apps.StaffConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "guard.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Records who made each staff change; off for everyone else (staff/audit.py).
    "staff.middleware.StaffAuditMiddleware",
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
# Dates and times shown without an explicit format (admin lists and read-only fields) carry their zone.
FORMAT_MODULE_PATH = ["config.formats"]
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

# "default" is each process's own memory: the public-page copies below, never needed by another server.
# "ratelimit" is shared by every app server (guard/ratelimit.py): the database cache in the site's own
# PostgreSQL (table made by guard's migration), or redis://host:6379/0 through Django's RedisCache.
RATE_LIMIT_CACHE = "ratelimit"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    RATE_LIMIT_CACHE: env.cache_url("RATE_LIMIT_CACHE_URL", default="dbcache://rate_limit_cache"),
}
if CACHES[RATE_LIMIT_CACHE]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    # The database cache deletes a third of its keys once it holds MAX_ENTRIES (300 by default):
    # counters must not vanish under load. Expired keys are removed first.
    CACHES[RATE_LIMIT_CACHE].setdefault("OPTIONS", {})["MAX_ENTRIES"] = 100_000
CACHES[RATE_LIMIT_CACHE]["KEY_PREFIX"] = env("RATE_LIMIT_KEY_PREFIX", default="esl")

# Uses of one public form (waitlist join, seat alert, quote, invoice request, lost links) per window,
# from one network address and naming one email address. RATE_LIMITS overrides per form.
RATE_LIMIT_DEFAULT = {
    "per_address": env.int("RATE_LIMIT_PER_ADDRESS", default=20),
    "per_email": env.int("RATE_LIMIT_PER_EMAIL", default=5),
    "window_seconds": env.int("RATE_LIMIT_WINDOW_SECONDS", default=3600),
}
RATE_LIMITS: dict[str, dict[str, int]] = {
    # A lead naming a team of 50 one seat at a time is one network address; each person is still counted.
    "seat_change": {"per_address": env.int("RATE_LIMIT_SEAT_CHANGES_PER_ADDRESS", default=200)},
}
# How many proxies (load balancer, CDN) stand in front of the app: the visitor's address is then that
# many entries from the right of X-Forwarded-For. 0: REMOTE_ADDR, the right choice with no proxy.
RATE_LIMIT_TRUSTED_PROXIES = env.int("RATE_LIMIT_TRUSTED_PROXIES", default=0)

# Content-Security-Policy (django-csp): scripts and styles only from the site's own static files, no
# inline scripts, event-handler attributes or eval. Bootstrap's CSS draws a few icons from data: URIs.
# Forms may post to the site and lead on to Stripe Checkout.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF, "https://checkout.stripe.com"],
    }
}
# Browser features the site never uses are switched off for it and anything it might embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(self), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "publickey-credentials-get=(), screen-wake-lock=(), usb=(), xr-spatial-tracking=(), browsing-topics=()"
)

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
# A form sent without its CSRF token gets a page saying what to do and how to reach us.
CSRF_FAILURE_VIEW = "support.views.csrf_failure"
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
# An outbound proxy for calls to Stripe, e.g. http://proxy.internal:3128 (the Stripe client does not read
# HTTPS_PROXY from the environment, so that each call does not look it up; registrations/stripe/base.py).
STRIPE_PROXY = env("STRIPE_PROXY", default="")
# Stripe is far away and sometimes down. Each call waits at most STRIPE_CONNECT_TIMEOUT_SECONDS to
# connect and STRIPE_TIMEOUT_SECONDS for the answer, and is retried STRIPE_MAX_NETWORK_RETRIES times
# (same idempotency key): 2 x (1 + 2.5) s + a 0.5 s pause = 7.5 s at most on the buyer's path
# (registrations.stripe.limits.call_budget_seconds). At most STRIPE_MAX_CONCURRENT_CALLS requests per
# process wait on Stripe at once; by default three quarters of gunicorn's threads (gunicorn.conf.py), so
# the other quarter always serve pages, even while Stripe hangs.
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)
STRIPE_CONNECT_TIMEOUT_SECONDS = env.float("STRIPE_CONNECT_TIMEOUT_SECONDS", default=1.0)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=2.5)
STRIPE_MAX_CONCURRENT_CALLS = env.int(
    "STRIPE_MAX_CONCURRENT_CALLS", default=max(env.int("GUNICORN_THREADS", default=16) * 3 // 4, 1)
)
STRIPE_CURRENCY = "usd"
# Stripe's smallest card charge in USD: a total below it after a discount is refused on the form.
STRIPE_MINIMUM_CHARGE_CENTS = 50
# Where "payment needs review" and dispute alerts go (one email each, through the outbox).
STAFF_ALERT_EMAIL = env("STAFF_ALERT_EMAIL", default=CONTACT_EMAIL)

# How long a checkout holds its seats: Stripe's minimum Checkout Session lifetime.
CHECKOUT_HOLD_MINUTES = 30
# Renewing a card checkout's hold ("Continue to payment") never holds the seats past this long after the order was placed.
CHECKOUT_MAX_HOLD_MINUTES = env.int("CHECKOUT_MAX_HOLD_MINUTES", default=120)
# Seats that unpaid card checkouts from one network address (client_address, kept only as a keyed hash) may
# hold in one workshop at once, so a script typing new emails cannot take a workshop off sale. 0: no cap.
CHECKOUT_HOLD_SEATS_PER_NETWORK = env.int("CHECKOUT_HOLD_SEATS_PER_NETWORK", default=60)
MAX_SEATS_PER_ORDER = env.int("MAX_SEATS_PER_ORDER", default=50)
QUOTE_VALID_DAYS = env.int("QUOTE_VALID_DAYS", default=30)
# Pay by invoice: seats held (and the invoice due) this many days; a reminder this many days before.
INVOICE_HOLD_DAYS = env.int("INVOICE_HOLD_DAYS", default=14)
INVOICE_REMINDER_DAYS = env.int("INVOICE_REMINDER_DAYS", default=3)
PREWORK_REMINDER_DAYS = env.int("PREWORK_REMINDER_DAYS", default=3)
SESSION_REMINDER_HOURS = env.int("SESSION_REMINDER_HOURS", default=24)
# Access needs are deleted this many days after the workshop's last session (`purge_personal_data`, daily).
ACCESS_NEEDS_RETENTION_DAYS = env.int("ACCESS_NEEDS_RETENTION_DAYS", default=30)
# A new email address for a waitlist entry must be confirmed from that inbox within this many days.
WAITLIST_EMAIL_CHANGE_DAYS = env.int("WAITLIST_EMAIL_CHANGE_DAYS", default=3)
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
    # Django logs each 4xx with its path: the filter keeps the private links in such paths out of the log.
    "filters": {"private_links": {"()": "guard.logs.PrivateLinkFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["private_links"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # The Stripe SDK logs every request at INFO; failures are logged by registrations.stripe.client.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "stripe": {"level": "WARNING"}},
}
