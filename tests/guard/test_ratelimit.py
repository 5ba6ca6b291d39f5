"""Finding 8: every public form that sends email or writes rows is limited per address and per email, with a
clear message next to the form, never a 500. (Two servers sharing the counters: test_two_servers_ratelimit.)"""

import re

import pytest
from django.core import mail

from cohorts.models import WaitlistEntry
from registrations.models import Order, OutboundEmail, Quote, SeatAlert
from tests.cohorts.factories import CohortFactory
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)

LIMITED = "This form has been sent too many times from your network or for this email address."


@pytest.fixture
def limits(settings):
    def set_limits(scope: str, per_address: int = 100, per_email: int = 100):
        settings.RATE_LIMITS = {scope: {"per_address": per_address, "per_email": per_email, "window_seconds": 3600}}

    return set_limits


def _join(client, cohort, email, **extra):
    data = {"name": "Ana", "email": email, "role": "teacher", "organisation": "", "kind": "individual",
            "team_size": "", "note": ""}
    return client.post(cohort.get_absolute_url(), data, **extra)


def test_finding_8_waitlist_joins_for_one_email_stop_at_the_limit_with_a_message(client, limits):
    limits("waitlist_join", per_email=3)
    cohort = CohortFactory()
    for _ in range(3):
        assert _join(client, cohort, "ana@school.example").status_code == 302
    response = _join(client, cohort, "ANA+again@School.example")  # the same inbox, however it is typed
    assert response.status_code == 429
    html = response.content.decode()
    assert LIMITED in html
    assert 'value="Ana"' in html  # what they typed is kept
    assert len(mail.outbox) == 3
    assert WaitlistEntry.objects.count() == 1


def test_waitlist_joins_from_one_address_stop_at_the_limit_whatever_the_email(client, limits):
    limits("waitlist_join", per_address=2)
    cohort = CohortFactory()
    assert _join(client, cohort, "a@school.example").status_code == 302
    assert _join(client, cohort, "b@school.example").status_code == 302
    assert _join(client, cohort, "c@school.example").status_code == 429
    assert WaitlistEntry.objects.count() == 2
    # Another network address is counted on its own.
    assert _join(client, cohort, "c@school.example", REMOTE_ADDR="198.51.100.7").status_code == 302


def test_behind_a_proxy_the_visitors_own_address_is_counted(client, limits, settings):
    limits("waitlist_join", per_address=1)
    settings.RATE_LIMIT_TRUSTED_PROXIES = 1
    cohort = CohortFactory()
    assert _join(client, cohort, "a@school.example", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 302
    assert _join(client, cohort, "b@school.example", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302
    # A forged left-hand entry does not make a new visitor: the proxy's own (rightmost) entry counts.
    assert _join(client, cohort, "c@school.example", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5").status_code == 429


def test_ipv6_visitors_are_counted_by_their_64_block(client, limits):
    limits("waitlist_join", per_address=1)
    cohort = CohortFactory()
    assert _join(client, cohort, "a@school.example", REMOTE_ADDR="2001:db8:1:2::10").status_code == 302
    assert _join(client, cohort, "b@school.example", REMOTE_ADDR="2001:db8:1:2::99").status_code == 429


def test_seat_alerts_are_limited_per_email(client, limits):
    limits("seat_alert", per_email=2)
    workshop = WorkshopFactory(capacity=1)
    url = f"/workshops/{workshop.slug}/notify-me/"
    for _ in range(2):
        assert client.post(url, {"email": "ana@school.example"}).status_code == 302
    response = client.post(url, {"email": "ana@school.example"})
    assert response.status_code == 429
    assert LIMITED in response.content.decode()
    assert SeatAlert.objects.count() == 1


def test_quotes_are_limited_per_email(client, limits):
    limits("quote", per_email=1)
    workshop = WorkshopFactory()
    data = registration_data(seat_count=5, download_quote="1")
    assert client.post(f"/workshops/{workshop.slug}/register/", data)["Content-Type"] == "application/pdf"
    response = client.post(f"/workshops/{workshop.slug}/register/", data)
    assert response.status_code == 429
    html = response.content.decode()
    assert LIMITED in html and 'value="Maya Johnson"' in html
    assert Quote.objects.count() == 1


def _invoice_data(**overrides):
    return registration_data(
        seat_count=2,
        payment_method="invoice",
        billing_name="Pat Accounts",
        billing_email="ap@district.example",
        billing_line1="1 Main St",
        billing_city="Springfield",
        billing_state="CA",
        billing_postal_code="90000",
        billing_country="US",
        **overrides,
    )


def test_invoice_requests_are_limited_per_billing_email(client, limits, stripe_double):
    limits("invoice_request", per_email=1)
    workshop = WorkshopFactory()
    first = client.post(f"/workshops/{workshop.slug}/register/", _invoice_data())
    assert first.status_code == 302, first.content.decode()[:3000]
    response = client.post(f"/workshops/{workshop.slug}/register/", _invoice_data(buyer_email="other@lincoln.example"))
    assert response.status_code == 429
    assert LIMITED in response.content.decode()
    assert Order.objects.count() == 1


def test_card_registrations_are_not_limited(client, limits, stripe_double):
    """A school network is one address: many teachers registering must not be stopped (README)."""
    limits("waitlist_join", per_address=1, per_email=1)
    workshop = WorkshopFactory()
    for i in range(3):
        data = registration_data(buyer_email=f"teacher{i}@lincoln.example")
        assert client.post(f"/workshops/{workshop.slug}/register/", data).status_code == 302
    assert Order.objects.count() == 3


def test_an_unreachable_store_lets_the_form_work_rather_than_fail(client, settings, limits):
    limits("waitlist_join", per_email=1)
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"},
    }
    cohort = CohortFactory()
    assert _join(client, cohort, "ana@school.example").status_code == 302
    assert _join(client, cohort, "ana@school.example").status_code == 302
    assert OutboundEmail.objects.count() == 2


def test_counters_hold_no_email_address_or_network_address(client, limits):
    from guard.models import RateLimitCacheEntry

    limits("waitlist_join", per_email=5)
    _join(client, CohortFactory(), "ana@school.example")
    keys = " ".join(RateLimitCacheEntry.objects.values_list("cache_key", flat=True))
    assert keys and "ana" not in keys and "127.0.0.1" not in keys
    assert re.search(r"rl:waitlist_join:email:[0-9a-f]{32}:", keys)


def test_the_seat_alert_answers_the_same_whether_or_not_the_address_asked_before(client):
    workshop = WorkshopFactory(capacity=1)
    url = f"/workshops/{workshop.slug}/notify-me/"
    SeatAlert.objects.create(workshop=workshop, email="ana@school.example")
    known = client.post(url, {"email": "ana@school.example"}, follow=True)
    unknown = client.post(url, {"email": "new@school.example"}, follow=True)
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert known.redirect_chain == unknown.redirect_chain
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())
    assert SeatAlert.objects.count() == 2
