"""A registration page sent twice with the same answers places one order.

With Stripe hundreds of milliseconds away a buyer presses "Continue to payment" again, or comes back from Stripe's page
with the browser's Back button and sends the form again. Each rendered page carries its own CSRF token (Django masks
it afresh per page), so the second sending of one page continues the order the first placed: no second hold on the
seats, no second Checkout Session or invoice. Two pages are two registrations."""

import re

import pytest
from django.core import mail
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registrations.models import Order
from registrations.selectors.availability import seats_taken
from tests.registrations.helpers import INVOICE_BILLING, register_at_once, registration_data

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def page_token(client, workshop) -> str:
    """Open the registration page as a browser does and keep the token its form carries."""
    response = client.get(f"/workshops/{workshop.slug}/register/")
    assert response.status_code == 200
    return TOKEN.search(response.content.decode()).group(1)


def send(client, workshop, token: str, **data):
    return client.post(f"/workshops/{workshop.slug}/register/", {**registration_data(**data), "csrfmiddlewaretoken": token})


def checkout_sessions(stripe_double) -> list[str]:
    return [r["idempotency_key"] for r in stripe_double.requests if r["path"] == "/v1/checkout/sessions"]


def test_the_same_page_sent_twice_places_one_order_and_one_checkout(client, workshop, stripe_double):
    token = page_token(client, workshop)
    first = send(client, workshop, token, seat_count=3)
    second = send(client, workshop, token, seat_count=3)
    order = Order.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == order.stripe_checkout_url
    assert seats_taken(workshop_id=workshop.pk) == 3
    assert len(set(checkout_sessions(stripe_double))) == 1  # asked again with the same idempotency key: the same session


def test_the_same_page_sent_again_with_other_answers_is_a_registration_of_its_own(client, workshop, stripe_double):
    """Back from Stripe's page, one more seat, sent again: the buyer gets what they asked for now."""
    token = page_token(client, workshop)
    send(client, workshop, token, seat_count=2)
    again = send(client, workshop, token, seat_count=3)
    newer = Order.objects.get(seat_count=3)
    assert again["Location"] == newer.stripe_checkout_url
    assert Order.objects.count() == 2


def test_two_pages_are_two_registrations(client, workshop, stripe_double):
    send(client, workshop, page_token(client, workshop), buyer_email="maya@lincoln.example")
    send(client, workshop, page_token(client, workshop), buyer_email="jo@lincoln.example")
    assert Order.objects.count() == 2
    assert seats_taken(workshop_id=workshop.pk) == 2


def test_the_same_page_sent_again_after_paying_goes_to_the_order_page(client, workshop, stripe_double, post_webhook):
    token = page_token(client, workshop)
    send(client, workshop, token)
    order = Order.objects.get()
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    sessions_before = len(checkout_sessions(stripe_double))
    again = send(client, workshop, token)
    assert again.status_code == 302 and again["Location"] == order.get_absolute_url()
    assert Order.objects.count() == 1
    assert len(checkout_sessions(stripe_double)) == sessions_before


def test_a_page_that_failed_validation_is_a_new_page_once_corrected(client, workshop, stripe_double):
    token = page_token(client, workshop)
    refused = send(client, workshop, token, buyer_email="not an email")
    assert refused.status_code == 400 and not Order.objects.exists()
    corrected = TOKEN.search(refused.content.decode()).group(1)
    assert corrected != token  # the page shown again is a page of its own
    send(client, workshop, corrected)
    send(client, workshop, corrected)
    assert Order.objects.count() == 1


def test_the_same_invoice_request_sent_twice_sends_one_invoice(client, workshop, stripe_double):
    token = page_token(client, workshop)
    send(client, workshop, token, seat_count=2, **INVOICE_BILLING)
    mail.outbox.clear()
    again = send(client, workshop, token, seat_count=2, **INVOICE_BILLING)
    order = Order.objects.get()
    assert again.status_code == 302 and again["Location"] == order.get_absolute_url()
    assert len([r for r in stripe_double.requests if r["path"] == "/v1/invoices"]) == 1
    page = client.get(order.get_absolute_url()).content.decode()
    assert f"Invoice {order.invoice_number} is on its way" in page
    assert "already an unpaid invoice request" not in page


@pytest.mark.postgres  # row locks under concurrent requests, as the other races (test_concurrency.py)
def test_two_presses_at_once_while_stripe_answers_slowly_hold_the_seats_once(workshop, stripe_double):
    stripe_double.set_latency(0.5)
    browser = Client()
    token = page_token(browser, workshop)
    data = {**registration_data(seat_count=4), "csrfmiddlewaretoken": token}
    answers = register_at_once(workshop, [data, data])
    order = Order.objects.get()
    assert seats_taken(workshop_id=workshop.pk) == 4
    assert all(answer.status_code == 302 for answer in answers)
    # One goes to Stripe; the other too, or (Stripe busy with the first under the same key) to the order page,
    # from which "Continue to payment" opens the same session.
    assert {answer["Location"] for answer in answers} <= {order.stripe_checkout_url, order.get_absolute_url()}
    assert order.stripe_checkout_url in {answer["Location"] for answer in answers}


def test_visitors_of_the_cached_page_each_get_a_page_of_their_own(workshop, stripe_double, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    first, second = Client(), Client()
    tokens = page_token(first, workshop), page_token(second, workshop)  # the second is served from the cache
    assert tokens[0] != tokens[1]
    send(first, workshop, tokens[0], buyer_email="maya@lincoln.example")
    send(second, workshop, tokens[1], buyer_email="jo@lincoln.example")
    assert Order.objects.count() == 2


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sendings=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3)), min_size=1, max_size=6))
def test_orders_are_one_per_page_whatever_is_sent_again(workshop, stripe_double, sendings):
    """Pages opened and sent in any order, some more than once, with the same or other answers: one order for each
    page and answers, holding the seats asked for once."""
    Order.objects.all().delete()
    browser, tokens = Client(), {}
    for page, seat_count in sendings:
        if page not in tokens:
            tokens[page] = page_token(browser, workshop)
        send(browser, workshop, tokens[page], seat_count=seat_count, buyer_email=f"lead{page}@lincoln.example")
    distinct = set(sendings)
    assert Order.objects.count() == len(distinct)
    assert seats_taken(workshop_id=workshop.pk) == sum(seat_count for _, seat_count in distinct)
