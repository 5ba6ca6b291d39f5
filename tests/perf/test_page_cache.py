"""The public page cache: anonymous visitors of the rush pages cost no query while a copy is fresh."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorts.models import Cohort
from registrations.models import Order
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def page_cache(settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 2
    caches["default"].clear()
    yield
    caches["default"].clear()


def get_counting(client, url, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    return response, len(ctx)


def test_second_visit_to_the_workshop_page_costs_no_query(client, workshop, page_cache):
    first, first_queries = get_counting(client, workshop.get_absolute_url())
    second, second_queries = get_counting(Client(), workshop.get_absolute_url())
    assert first.status_code == second.status_code == 200
    assert first_queries > 0
    assert second_queries == 0
    assert second.content == first.content


def test_cache_is_off_unless_configured(client, workshop):
    get_counting(client, workshop.get_absolute_url())
    _, queries = get_counting(Client(), workshop.get_absolute_url())
    assert queries > 0


def test_each_visitor_of_a_cached_form_gets_a_csrf_token_that_works(workshop, page_cache, stripe_double):
    url = f"/workshops/{workshop.slug}/register/"
    Client().get(url)  # fills the cache
    visitors = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for visitor in visitors:
        response, queries = get_counting(visitor, url)
        assert queries == 0
        tokens.append(TOKEN.search(response.content.decode()).group(1))
        assert "csrftoken" in response.cookies
    assert tokens[0] != tokens[1]
    for n, (visitor, token) in enumerate(zip(visitors, tokens)):
        data = registration_data(buyer_email=f"visitor{n}@school.example") | {"csrfmiddlewaretoken": token}
        response = visitor.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("https://checkout.stripe.test/")
    assert Order.objects.count() == 2


def test_another_visitors_token_is_refused(workshop, page_cache):
    url = f"/workshops/{workshop.slug}/register/"
    Client().get(url)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    token = TOKEN.search(first.get(url).content.decode()).group(1)
    second.get(url)
    response = second.post(url, registration_data() | {"csrfmiddlewaretoken": token})
    assert response.status_code == 403
    assert not Order.objects.exists()


@pytest.mark.parametrize("cookie", ["sessionid", "messages"])
def test_visitor_with_a_session_or_messages_gets_a_fresh_page(client, workshop, page_cache, cookie):
    get_counting(Client(), workshop.get_absolute_url())
    client.cookies[cookie] = "x"
    _, queries = get_counting(client, workshop.get_absolute_url())
    assert queries > 0


def test_query_string_gets_a_fresh_page(workshop, page_cache):
    url = f"/workshops/{workshop.slug}/register/"
    get_counting(Client(), url)
    _, queries = get_counting(Client(), url + "?from=abc")
    assert queries > 0


def test_a_link_with_campaign_tags_gets_the_cached_copy(workshop, page_cache):
    """Links in an announcement email carry utm_* tags: the rush's visitors must not all miss the cache."""
    url = f"/workshops/{workshop.slug}/register/"
    get_counting(Client(), url)
    response, queries = get_counting(Client(), url + "?utm_source=district-newsletter&utm_medium=email&mc_cid=42")
    assert response.status_code == 200
    assert queries == 0


CAMPAIGN_TAGS = "?utm_source=district-newsletter&utm_medium=email&utm_campaign=spring&fbclid=a&gclid=b&msclkid=c&mc_cid=d&mc_eid=e"


@pytest.mark.parametrize("page", ["home", "workshop", "register", "cohort"])
def test_campaign_tags_change_nothing_on_the_pages_that_share_a_cached_copy(workshop, page):
    """The cached copy of a page is served whatever campaign tags the link carries, so no page may render them
    (rendered fresh here: the page cache is off in tests, and CSRF tokens differ per visitor anyway)."""
    cohort = Cohort.objects.create(
        title="The year-long cohort", slug="year-long-cohort", summary="Monthly on Zoom.", description="A year.",
        start_month=date(timezone.now().year + 1, 8, 1), prerequisite_workshop=workshop, is_published=True,
    )
    url = {
        "home": "/", "workshop": workshop.get_absolute_url(), "register": f"/workshops/{workshop.slug}/register/",
        "cohort": f"/cohorts/{cohort.slug}/",
    }[page]
    plain, tagged = Client().get(url), Client().get(url + CAMPAIGN_TAGS)
    assert plain.status_code == tagged.status_code == 200
    assert TOKEN.sub("", plain.content.decode()) == TOKEN.sub("", tagged.content.decode())


def test_a_prefill_link_with_campaign_tags_is_rendered_for_its_visitor(workshop, page_cache):
    url = f"/workshops/{workshop.slug}/register/"
    get_counting(Client(), url)
    _, queries = get_counting(Client(), url + "?utm_source=district-newsletter&from=abc")
    assert queries > 0


def test_not_found_is_not_cached(page_cache, db):
    get_counting(Client(), "/workshops/no-such-workshop/")
    response, queries = get_counting(Client(), "/workshops/no-such-workshop/")
    assert response.status_code == 404
    assert queries > 0


def test_seat_count_is_at_most_the_cache_lifetime_old(page_cache, db):
    workshop = WorkshopFactory(capacity=40)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert "40 seats left" in Client().get(workshop.get_absolute_url()).content.decode()
        OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000)
        assert "40 seats left" in Client().get(workshop.get_absolute_url()).content.decode()
        traveller.shift(timedelta(seconds=3))
        assert "35 seats left" in Client().get(workshop.get_absolute_url()).content.decode()
