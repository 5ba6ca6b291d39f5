import pytest

from registrations.models import Order, Seat
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db


def register_url(workshop):
    return f"/workshops/{workshop.slug}/register/"


@pytest.mark.parametrize(
    "seats, unit_cents, total_cents",
    [(1, 12000, 12000), (4, 12000, 48000), (5, 10000, 50000), (12, 10000, 120000)],
)
def test_order_price_comes_from_tiers(client, workshop, stripe_double, seats, unit_cents, total_cents):
    response = client.post(register_url(workshop), registration_data(seat_count=seats))
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.seat_count, order.unit_price_cents, order.total_cents) == (seats, unit_cents, total_cents)
    sent = stripe_double.requests_to("POST", "/v1/checkout/sessions")[0]["params"]
    line = sent["line_items"][0]
    assert (int(line["quantity"]), int(line["price_data"]["unit_amount"])) == (seats, unit_cents)
    assert stripe_double.sessions[order.stripe_checkout_session_id]["amount_total"] == total_cents


def test_checkout_session_carries_order_reference_email_and_expiry(client, workshop, stripe_double):
    client.post(register_url(workshop), registration_data())
    order = Order.objects.get()
    request = stripe_double.requests_to("POST", "/v1/checkout/sessions")[0]
    params = request["params"]
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == order.reference
    assert params["metadata"]["order_reference"] == order.reference
    assert params["customer_email"] == "maya@lincoln.example"
    assert int(params["expires_at"]) == int(order.hold_expires_at.timestamp())
    assert params["success_url"].endswith(f"/orders/{order.token}/success/?session_id={{CHECKOUT_SESSION_ID}}")
    assert params["cancel_url"].endswith(f"/orders/{order.token}/cancel/")
    assert request["idempotency_key"].startswith(f"checkout-{order.reference}-")


def test_register_redirects_to_stripe_checkout(client, workshop, stripe_double):
    response = client.post(register_url(workshop), registration_data())
    order = Order.objects.get()
    assert response["Location"] == f"https://checkout.stripe.test/c/pay/{order.stripe_checkout_session_id}"


def test_tampered_price_in_post_changes_nothing(client, workshop, stripe_double):
    data = registration_data(seat_count=2, unit_price_cents="1", total_cents="1", price="0.01")
    client.post(register_url(workshop), data)
    order = Order.objects.get()
    assert order.total_cents == 24000


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "Choose at least 1 seat."),
        ("-3", "Choose at least 1 seat."),
        ("abc", "Enter a whole number of seats"),
        ("41", "Only 40 seats left"),
        ("", "This field is required"),
    ],
)
def test_bad_seat_count_gets_message_beside_field_and_keeps_input(client, workshop, value, message):
    response = client.post(register_url(workshop), registration_data(seat_count=value))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="error_1_id_seat_count"' in html
    assert 'value="Maya Johnson"' in html
    assert 'value="Lincoln Middle School"' in html
    if value:
        assert f'value="{value}"' in html
    assert not Order.objects.exists()


@pytest.mark.parametrize("value", ["0", "-3", "abc"])
def test_a_seat_count_that_is_not_one_or_more_shows_no_total(client, workshop, value):
    html = client.post(register_url(workshop), registration_data(seat_count=value)).content.decode()
    assert "data-total" not in html and "data-seat-count" not in html
    assert "data-no-total>" in html


@pytest.mark.parametrize(
    "value, message", [("0", "Choose at least 1 seat."), ("-3", "Choose at least 1 seat."), ("abc", "Enter a whole number")]
)
def test_update_total_without_javascript_flags_a_seat_count_that_is_not_one_or_more(client, workshop, value, message):
    html = client.post(register_url(workshop), {**registration_data(seat_count=value), "update": "1"}).content.decode()
    assert 'id="error_1_id_seat_count"' in html and message in html
    assert f'value="{value}"' in html and "data-total" not in html


def test_seat_count_above_seats_left_is_refused(client, stripe_double):
    workshop = WorkshopFactory(capacity=10)
    OrderFactory(workshop=workshop, seat_count=8, unit_price_cents=10000)
    response = client.post(register_url(workshop), registration_data(seat_count=3))
    assert response.status_code == 400
    assert "Only 2 seats left" in response.content.decode()
    assert Order.objects.count() == 1


def test_registering_after_the_last_seat_went_offers_the_seat_alert_with_their_email(client, stripe_double):
    workshop = WorkshopFactory(capacity=2)
    OrderFactory(workshop=workshop, seat_count=2, unit_price_cents=10000)
    response = client.post(register_url(workshop), registration_data(buyer_email="late@lincoln.example"))
    html = response.content.decode()
    assert "This workshop is sold out" in html and 'value="late@lincoln.example"' in html
    assert Order.objects.count() == 1 and not stripe_double.sessions


def test_the_seat_count_hint_states_the_workshops_own_team_price(client, workshop):
    workshop.price_tiers.filter(min_seats=5).update(min_seats=6, unit_price_cents=9500)
    html = client.get(register_url(workshop)).content.decode()
    assert "$95.00 each for 6 or more seats." in html


def test_seat_count_above_order_maximum_is_refused(client, settings, stripe_double):
    settings.MAX_SEATS_PER_ORDER = 50
    workshop = WorkshopFactory(capacity=500)
    response = client.post(register_url(workshop), registration_data(seat_count=51))
    assert response.status_code == 400
    assert "One order can hold up to 50 seats" in response.content.decode()


def test_bad_email_is_reported_beside_field(client, workshop):
    response = client.post(register_url(workshop), registration_data(buyer_email="not-an-email"))
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert 'value="not-an-email"' in response.content.decode()


def test_team_lead_names_some_attendees_and_leaves_others(client, workshop, stripe_double):
    data = registration_data(
        seat_count=5, buyer_attends=False, attendees=[("Ana Diaz", "ana@lincoln.example"), ("", "")]
    )
    client.post(register_url(workshop), data)
    order = Order.objects.get()
    seats = list(order.seats.order_by("position"))
    assert len(seats) == 5
    assert (seats[0].attendee_name, seats[0].attendee_email) == ("Ana Diaz", "ana@lincoln.example")
    assert all(not s.is_named for s in seats[1:])


def test_buyer_who_attends_takes_the_first_seat_with_access_needs(client, workshop, stripe_double):
    data = registration_data(seat_count=2, needs_captions="on", access_note="Breaks every hour")
    client.post(register_url(workshop), data)
    seat = Order.objects.get().seats.get(position=1)
    assert (seat.attendee_name, seat.needs_captions, seat.access_note) == ("Maya Johnson", True, "Breaks every hour")


def test_attendee_with_email_but_no_name_is_told_so(client, workshop):
    data = registration_data(seat_count=2, attendees=[("", "x@lincoln.example")])
    response = client.post(register_url(workshop), data)
    assert response.status_code == 400
    assert "Add their name" in response.content.decode()


def test_more_named_attendees_than_seats_is_refused(client, workshop, stripe_double):
    data = registration_data(seat_count=1, attendees=[("Ana Diaz", "ana@x.example")])
    response = client.post(register_url(workshop), data)
    assert response.status_code == 400
    assert "You named 2 attendees but chose 1 seats" in response.content.decode()
    assert not Order.objects.exists()


def test_form_shows_server_computed_total_without_javascript(client, workshop):
    data = registration_data(seat_count=4)
    data["update"] = "1"
    html = client.post(register_url(workshop), data).content.decode()
    assert "$480.00" in html
    assert "Add one more seat and every seat is $100.00: 5 seats for $500.00." in html
    assert html.count("data-attendee-row") == 3 + 1  # three rows plus the hidden template
    assert not Order.objects.exists()


def test_five_seats_show_team_price(client, workshop):
    data = registration_data(seat_count=5)
    data["update"] = "1"
    html = client.post(register_url(workshop), data).content.decode()
    assert "$500.00" in html and "$100.00" in html


def test_sold_out_register_page_offers_seat_alert(client):
    workshop = WorkshopFactory(capacity=1)
    OrderFactory(workshop=workshop)
    response = client.get(register_url(workshop))
    assert "This workshop is sold out" in response.content.decode()
    response = client.post(f"/workshops/{workshop.slug}/notify-me/", {"email": "Wait@Example.org"})
    assert response.status_code == 302
    assert workshop.seat_alerts.get().email == "wait@example.org"


def test_seat_alert_with_bad_email_keeps_input(client):
    workshop = WorkshopFactory(capacity=1)
    OrderFactory(workshop=workshop)
    response = client.post(f"/workshops/{workshop.slug}/notify-me/", {"email": "nope"})
    assert response.status_code == 400
    assert 'value="nope"' in response.content.decode()


def test_unpublished_workshop_register_page_is_404(client):
    workshop = WorkshopFactory(is_published=False)
    assert client.get(register_url(workshop)).status_code == 404


def test_register_post_creates_seats_with_unguessable_tokens(client, workshop, stripe_double):
    client.post(register_url(workshop), registration_data(seat_count=3))
    order = Order.objects.get()
    tokens = [order.token] + [s.token for s in Seat.objects.all()]
    assert len(set(tokens)) == 4
    assert all(len(t) >= 40 for t in tokens)
