"""Seats are not a free option by card either: unpaid card checkouts from one network hold at most
CHECKOUT_HOLD_SEATS_PER_NETWORK seats of a workshop at once (a school's teachers share one address, so
requests are not limited, held seats are). The network is kept only as a keyed hash, and forgotten."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from registrations.models import Order
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db

SCHOOL, LIBRARY = "203.0.113.5", "198.51.100.7"
CAP_MESSAGE = "we hold at most 6 for one network at a time"


@pytest.fixture
def cap(settings):
    settings.CHECKOUT_HOLD_SEATS_PER_NETWORK = 6
    settings.CONTACT_EMAIL = "help@esl.example"
    return 6


@pytest.fixture
def big_workshop(db):
    return WorkshopFactory(capacity=150)


def register(client, workshop, seats, n, address=SCHOOL, forwarded_for=None, **extra):
    data = registration_data(seat_count=seats, buyer_email=f"teacher{n}@lincoln.example", **extra)
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post(f"/workshops/{workshop.slug}/register/", data, REMOTE_ADDR=address, **headers)


def test_past_the_cap_the_seat_field_says_how_to_go_on_and_keeps_what_was_typed(client, cap, big_workshop, stripe_double):
    assert register(client, big_workshop, 4, 1).status_code == 302
    response = register(client, big_workshop, 3, 2, buyer_name="Rosa Parks High", organisation="Roosevelt High")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error_1_id_seat_count"' in html
    assert "Unpaid card checkouts from your network already hold 4 seats of this workshop" in html
    assert CAP_MESSAGE in html and "you can choose up to 2 now" in html
    assert "if some of them are yours, finish paying for them or cancel them" in html
    assert "Invoice my organisation" in html and "help@esl.example" in html
    assert 'value="Rosa Parks High"' in html and 'value="Roosevelt High"' in html
    assert 'value="teacher2@lincoln.example"' in html and 'value="3"' in html
    assert Order.objects.count() == 1 and len(stripe_double.sessions) == 1


def test_up_to_the_cap_card_checkouts_from_one_network_go_through(client, cap, big_workshop, stripe_double):
    assert register(client, big_workshop, 4, 1).status_code == 302
    assert register(client, big_workshop, 2, 2).status_code == 302
    assert register(client, big_workshop, 1, 3).status_code == 400
    assert sum(Order.objects.values_list("seat_count", flat=True)) == 6


def test_two_networks_are_capped_independently(client, cap, big_workshop, stripe_double):
    assert register(client, big_workshop, 6, 1, address=SCHOOL).status_code == 302
    assert register(client, big_workshop, 6, 2, address=LIBRARY).status_code == 302
    assert register(client, big_workshop, 1, 3, address=SCHOOL).status_code == 400
    assert register(client, big_workshop, 1, 4, address=LIBRARY).status_code == 400


def test_behind_a_proxy_the_network_is_the_forwarded_address(client, cap, big_workshop, stripe_double, settings):
    settings.RATE_LIMIT_TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    assert register(client, big_workshop, 6, 1, address=proxy, forwarded_for=SCHOOL).status_code == 302
    assert register(client, big_workshop, 6, 2, address=proxy, forwarded_for=LIBRARY).status_code == 302
    refused = register(client, big_workshop, 1, 3, address=proxy, forwarded_for=f"{LIBRARY}, {SCHOOL}")
    assert refused.status_code == 400


def test_the_network_is_kept_as_a_keyed_hash_never_the_address(client, cap, big_workshop, stripe_double, settings):
    register(client, big_workshop, 1, 1, address=SCHOOL)
    stored = Order.objects.get().hold_source
    assert len(stored) == 32 and SCHOOL not in stored and "203" not in stored
    settings.SECRET_KEY = "another-secret-key-entirely-for-this-test-000000000000"
    register(client, big_workshop, 1, 2, address=SCHOOL)
    assert Order.objects.latest("pk").hold_source != stored


def test_paid_checkouts_stop_counting(client, cap, big_workshop, stripe_double, post_webhook):
    register(client, big_workshop, 6, 1)
    order = Order.objects.get()
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert register(client, big_workshop, 6, 2).status_code == 302


def test_lapsed_holds_stop_counting(client, cap, big_workshop, stripe_double):
    register(client, big_workshop, 6, 1)
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert register(client, big_workshop, 1, 2).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(minutes=32)):
        assert register(client, big_workshop, 6, 3).status_code == 302


def test_a_checkout_cancelled_on_stripes_page_stops_counting(client, cap, big_workshop, stripe_double):
    register(client, big_workshop, 6, 1)
    client.get(f"/orders/{Order.objects.get().token}/cancel/")
    assert register(client, big_workshop, 6, 2).status_code == 302


def test_invoice_requests_are_not_card_checkouts(client, cap, big_workshop, stripe_double):
    """Unpaid invoices have their own share of the seats; they neither count toward nor meet the card cap."""
    billing = {
        "payment_method": "invoice", "billing_name": "Pat Lee", "billing_email": "ap@district.example",
        "billing_line1": "1 Main St", "billing_city": "Oakland", "billing_state": "CA", "billing_postal_code": "94601",
        "billing_country": "US",
    }
    assert register(client, big_workshop, 4, 1).status_code == 302
    assert register(client, big_workshop, 10, 2, **billing).status_code == 302
    assert Order.objects.get(payment_method="invoice").hold_source == ""
    assert register(client, big_workshop, 2, 3).status_code == 302
    assert register(client, big_workshop, 1, 4).status_code == 400


def test_a_hold_renewed_after_it_lapsed_is_capped_again(client, cap, big_workshop, stripe_double):
    """Otherwise a network could let holds lapse, place new ones, and renew the old ones on top."""
    register(client, big_workshop, 6, 1)
    first = Order.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        assert register(client, big_workshop, 6, 2).status_code == 302
        response = client.post(f"/orders/{first.token}/pay/", follow=True)
        first.refresh_from_db()
        assert first.hold_expires_at < timezone.now()
    html = response.content.decode()
    assert "Other unpaid card checkouts from your network hold 6 seats" in html and "cannot be held again yet" in html
    assert len(stripe_double.sessions) == 2


def test_with_the_cap_at_zero_there_is_no_cap(client, settings, big_workshop, stripe_double):
    settings.CHECKOUT_HOLD_SEATS_PER_NETWORK = 0
    for n in range(3):
        assert register(client, big_workshop, 50, n).status_code == 302


def test_the_form_states_the_rule(client, cap, big_workshop):
    html = client.get(f"/workshops/{big_workshop.slug}/register/").content.decode()
    assert (
        "People paying by card from the same school or office internet connection can hold up to 6 seats between "
        "them while their payments are unfinished."
    ) in html


def test_the_daily_purge_forgets_the_network_once_a_hold_is_over_for_good(client, cap, big_workshop, stripe_double,
                                                                         post_webhook):
    register(client, big_workshop, 2, 1)
    paid = Order.objects.get()
    post_webhook("checkout.session.completed", stripe_double.pay(paid.stripe_checkout_session_id))
    register(client, big_workshop, 2, 2)
    lapsing = Order.objects.latest("pk")
    call_command("purge_personal_data")
    paid.refresh_from_db()
    lapsing.refresh_from_db()
    assert paid.hold_source == "" and lapsing.hold_source != ""
    with time_machine.travel(timezone.now() + timedelta(minutes=119)):
        call_command("purge_personal_data")  # lapsed, but "Continue to payment" could still renew it
    lapsing.refresh_from_db()
    assert lapsing.hold_source != ""
    with time_machine.travel(timezone.now() + timedelta(minutes=121)):
        call_command("purge_personal_data")
    lapsing.refresh_from_db()
    assert lapsing.hold_source == ""

