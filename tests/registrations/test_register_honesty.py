"""The registration form is honest: the seat count is checked as typed and on "Update total", the
dates and the refund policy sit beside the total, and a second registration from the same email is
pointed at the order it already has, without telling a stranger anything."""

import pytest
from django.core import mail

from registrations.models import Order
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db


def register_url(workshop):
    return f"/workshops/{workshop.slug}/register/"


def test_update_total_with_too_many_seats_says_so_beside_the_field_and_shows_no_total(client):
    workshop = WorkshopFactory(capacity=10)
    OrderFactory(workshop=workshop, seat_count=8, unit_price_cents=10000)
    response = client.post(register_url(workshop), registration_data(seat_count=6, update="1"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="error_1_id_seat_count"' in html and "Only 2 seats left. Please choose 2 or fewer." in html
    assert "data-total" not in html and 'data-no-total>Only 2 seats left.' in html
    assert "This field is required" not in html  # nothing else is judged before they submit
    assert not Order.objects.filter(buyer_email="maya@lincoln.example").exists()


def test_update_total_above_the_order_limit_shows_no_total_for_the_limit(client, settings):
    settings.MAX_SEATS_PER_ORDER = 50
    workshop = WorkshopFactory(capacity=500)
    html = client.post(register_url(workshop), registration_data(seat_count=51, update="1")).content.decode()
    assert "One order can hold up to 50 seats" in html
    assert "$5,000.00" not in html and "$5,100.00" not in html


def test_the_seat_field_carries_the_limits_the_page_script_checks(client):
    workshop = WorkshopFactory(capacity=10)
    OrderFactory(workshop=workshop, seat_count=8, unit_price_cents=10000)
    html = client.get(register_url(workshop)).content.decode()
    assert 'data-seats-left="2"' in html and 'data-max-per-order="50"' in html
    assert 'aria-describedby="seat-count-live"' in html and 'id="seat-count-live"' in html


def test_the_total_shows_the_session_dates_on_zoom_and_links_the_refund_policy(client, workshop):
    html = client.get(register_url(workshop)).content.decode()
    summary = html[html.index("Your total"):]
    assert workshop.schedule in summary and workshop.schedule.startswith("Live on Zoom: ")
    assert "4:00–6:00 PM Pacific Time (P" in workshop.schedule
    button = summary.index("Continue to payment")
    policy = summary.index('href="/refunds/"')
    assert 0 < policy - button < 400  # right next to the pay button


def test_the_buyers_time_zone_from_the_browser_is_kept_for_their_emails(client, workshop, stripe_double):
    client.post(register_url(workshop), registration_data(time_zone="America/New_York"))
    assert Order.objects.get().time_zone == "America/New_York"


def test_an_unknown_time_zone_is_ignored(client, workshop, stripe_double):
    client.post(register_url(workshop), registration_data(time_zone="Mars/Olympus"))
    assert Order.objects.get().time_zone == ""


# --- registering twice --------------------------------------------------------------------------------


@pytest.fixture
def first_order(workshop):
    return OrderFactory(workshop=workshop, seat_count=3, buyer_email="maya@lincoln.example", buyer_name="Maya Johnson")


def test_the_browser_holding_the_first_order_is_offered_to_add_seats_to_it(client, workshop, first_order, stripe_double):
    client.get(f"/orders/{first_order.token}/")  # this browser has the order's link
    response = client.post(register_url(workshop), registration_data(seat_count=2, buyer_email="MAYA@lincoln.example"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"You already have order {first_order.reference} for this workshop" in html
    assert f'href="/orders/{first_order.token}/?add=2#add-seats">Add 2 seats to {first_order.reference}</a>' in html
    assert Order.objects.count() == 1 and not stripe_double.sessions
    # The offer's link fills in the seats to add.
    order_page = client.get(f"/orders/{first_order.token}/?add=2").content.decode()
    assert 'name="grow-extra_seats" value="2"' in order_page


def test_choosing_a_separate_registration_goes_on_to_payment(client, workshop, first_order, stripe_double):
    client.get(f"/orders/{first_order.token}/")
    data = registration_data(seat_count=2, separate_from=first_order.reference)
    response = client.post(register_url(workshop), data)
    assert response.status_code == 302 and Order.objects.count() == 2


def test_a_stranger_typing_a_registered_email_sees_what_any_new_email_sees(client, workshop, first_order, stripe_double, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(register_url(workshop), registration_data(buyer_email="maya@lincoln.example"))
    unknown = client.post(register_url(workshop), registration_data(buyer_email="new@lincoln.example"))
    assert known.status_code == unknown.status_code == 302
    # Both go straight to their own Checkout Session: same place, nothing about the first order.
    assert known["Location"].rsplit("/", 1)[0] == unknown["Location"].rsplit("/", 1)[0]
    assert first_order.reference not in known.content.decode()
    # The notice goes to the address itself, with the order and the way to add seats.
    notice = [m for m in mail.outbox if first_order.reference in m.subject]
    assert len(notice) == 1 and notice[0].to == ["maya@lincoln.example"]
    assert f"/orders/{first_order.token}/?add=1#add-seats" in notice[0].body


def test_the_notice_goes_once_a_day_however_often_the_email_is_typed(client, workshop, first_order, stripe_double, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            client.post(register_url(workshop), registration_data(buyer_email="maya@lincoln.example"))
    assert len([m for m in mail.outbox if first_order.reference in m.subject]) == 1


def test_an_order_for_another_workshop_is_not_a_second_registration(client, workshop, stripe_double, django_capture_on_commit_callbacks):
    other = OrderFactory(buyer_email="maya@lincoln.example")
    client.get(f"/orders/{other.token}/")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(register_url(workshop), registration_data())
    assert response.status_code == 302
    assert not [m for m in mail.outbox if other.reference in m.subject]
