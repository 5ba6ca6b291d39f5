""""Email me my links": every link an address can reach, by email only, the same answer for any email, rate-limited."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from cohorts.models import Cohort, WaitlistEntry
from registrations.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """Post the form as a browser at `ip` would; the emails it queues are delivered."""

    def post(client, email, ip="203.0.113.5"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/links/", {"email": email}, REMOTE_ADDR=ip)

    return post


def test_a_buyer_and_attendee_gets_every_order_and_seat_link_by_email(ask, client, workshop):
    own = OrderFactory(workshop=workshop, buyer_email="maya@lincoln.example", seat_count=3, seats=["Maya Johnson"])
    own.seats.filter(position=1).update(attendee_email="Maya@Lincoln.example")
    colleague_seat = OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Maya Johnson"]).seats.get(position=2)
    colleague_seat.attendee_email = "maya@lincoln.example"
    colleague_seat.save()
    response = ask(client, "MAYA@lincoln.example")
    assert response.status_code == 302 and response["Location"] == "/links/sent/"
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert mail.outbox[0].to == ["MAYA@lincoln.example"]
    assert f"http://testserver/orders/{own.token}/" in body
    assert f"http://testserver/seats/{own.seats.get(position=1).token}/" in body
    assert f"http://testserver/seats/{colleague_seat.token}/" in body
    # Other people's links on the same orders never go to this address.
    assert colleague_seat.order.token not in body
    assert own.seats.get(position=2).token not in body


def test_waitlist_places_are_included(ask, client, workshop):
    cohort = Cohort.objects.create(title="Year-long course", slug="year", summary="s", start_month=timezone.now().date().replace(day=1))
    entry = WaitlistEntry.objects.create(cohort=cohort, name="Ana", email="ana@school.example")
    ask(client, "ana@school.example")
    assert f"http://testserver/cohorts/waitlist/{entry.token}/" in mail.outbox[0].body


def test_unpaid_orders_whose_hold_lapsed_are_left_out(ask, client, workshop):
    lapsed = OrderFactory(workshop=workshop, buyer_email="sam@school.example", status=Order.Status.EXPIRED, paid_at=None)
    live = OrderFactory(
        workshop=workshop, buyer_email="sam@school.example", status=Order.Status.PENDING, paid_at=None,
        hold_expires_at=timezone.now() + timedelta(minutes=20),
    )
    ask(client, "sam@school.example")
    body = mail.outbox[0].body
    assert live.token in body and lapsed.token not in body


def test_known_and_unknown_emails_get_the_same_page(ask, client, workshop):
    OrderFactory(workshop=workshop, buyer_email="known@school.example")
    known = client.get(ask(client, "known@school.example")["Location"])
    unknown = client.get(ask(client, "nobody@school.example")["Location"])
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content


def test_an_unknown_email_is_told_by_email_that_nothing_is_registered_under_it(ask, client):
    ask(client, "nobody@school.example")
    assert len(mail.outbox) == 1
    assert "We have no registrations, seats or waitlist places under this address." in mail.outbox[0].body
    assert "/orders/" not in mail.outbox[0].body and "/seats/" not in mail.outbox[0].body


@override_settings(LINKS_REQUESTS_PER_EMAIL_PER_HOUR=2, LINKS_REQUESTS_PER_IP_PER_HOUR=50)
def test_one_email_is_limited_per_hour_whoever_asks(ask, client):
    assert ask(client, "target@school.example", ip="198.51.100.1").status_code == 302
    assert ask(client, "target@school.example", ip="198.51.100.2").status_code == 302
    refused = ask(client, "Target@School.example", ip="198.51.100.3")
    assert refused.status_code == 429
    assert "We have sent links several times in the last hour" in refused.content.decode()
    assert 'value="Target@School.example"' in refused.content.decode()  # what they typed stays
    assert len(mail.outbox) == 2


@override_settings(LINKS_REQUESTS_PER_EMAIL_PER_HOUR=50, LINKS_REQUESTS_PER_IP_PER_HOUR=3)
def test_one_address_is_limited_per_hour_whatever_emails_it_tries(ask, client):
    for n in range(3):
        assert ask(client, f"guess{n}@school.example").status_code == 302
    assert ask(client, "guess9@school.example").status_code == 429
    assert ask(client, "guess9@school.example", ip="203.0.113.99").status_code == 302
    assert len(mail.outbox) == 4


def test_a_bad_email_is_shown_next_to_the_field(ask, client):
    response = ask(client, "not-an-email")
    assert response.status_code == 400
    assert "Enter an email address such as name@school.org." in response.content.decode()
    assert len(mail.outbox) == 0


@pytest.mark.parametrize("page", ["footer", "404", "order", "seat"])
def test_email_me_my_links_is_linked_from_the_footer_404_and_token_pages(client, workshop, page):
    order = OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz"])
    path = {"footer": "/", "404": "/orders/not-a-real-token-at-all-xxxxxxxx/", "order": f"/orders/{order.token}/",
            "seat": f"/seats/{order.seats.get(position=1).token}/"}[page]
    html = client.get(path).content.decode()
    assert 'href="/links/"' in html
