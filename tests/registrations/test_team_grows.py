"""A team grows: the lead of a paid order adds seats and pays only the difference to the new tier."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from registrations.models import Order, Seat
from registrations.selectors.availability import seats_taken
from registrations.selectors.ledger import order_money
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import refund_whole_orders, registration_data

# Payments are fulfilled (and emails queued) on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

INVOICE = {
    "grow-payment_method": "invoice",
    "grow-billing_name": "Dana Ruiz",
    "grow-billing_email": "accounts@lincoln-usd.example",
    "grow-billing_line1": "100 Main Street",
    "grow-billing_city": "Oakland",
    "grow-billing_state": "CA",
    "grow-billing_postal_code": "94612",
    "grow-billing_country": "US",
}


def paid_order(client, workshop, stripe_double, post_webhook, seat_count=3) -> Order:
    """A team order placed and paid through Checkout, as a lead would."""
    client.post(
        f"/workshops/{workshop.slug}/register/",
        registration_data(seat_count=seat_count, attendees=[("Ana Diaz", "ana@lincoln.example")]),
    )
    order = Order.objects.get(kind=Order.Kind.PURCHASE, buyer_email="maya@lincoln.example")
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    assert (order.status, order.total_cents) == (Order.Status.PAID, seat_count * 12000)
    mail.outbox.clear()
    return order


@pytest.fixture
def team(client, workshop, stripe_double, post_webhook):
    return paid_order(client, workshop, stripe_double, post_webhook)


def add_seats(client, order, extra, **data):
    return client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": str(extra), **data})


def the_addition(order) -> Order:
    return Order.objects.get(parent=order)


def test_growing_3_to_5_charges_exactly_the_difference(client, team, stripe_double, post_webhook):
    response = add_seats(client, team, 2)
    addition = the_addition(team)
    session = stripe_double.sessions[addition.stripe_checkout_session_id]
    assert response["Location"] == session["url"]
    assert session["amount_total"] == 14000
    (line,) = session["line_items_params"]
    assert line["quantity"] == "1" and line["price_data"]["unit_amount"] == "14000"
    assert line["price_data"]["product_data"]["name"] == "Add 2 seats (team price now $100.00 each)"
    assert session["metadata"] == {"order_reference": addition.reference}
    assert (addition.kind, addition.seat_count, addition.total_cents) == (Order.Kind.ADDITION, 2, 14000)

    paid = stripe_double.pay(addition.stripe_checkout_session_id)
    assert post_webhook("checkout.session.completed", paid).status_code == 200
    team.refresh_from_db()
    addition.refresh_from_db()
    assert (team.seat_count, team.unit_price_cents, team.tier_min_seats, team.total_cents) == (5, 10000, 5, 50000)
    assert addition.status == Order.Status.MERGED and addition.stripe_payment_intent_id == paid["payment_intent"]
    assert list(team.seats.order_by("position").values_list("position", "attendee_name")) == [
        (1, "Maya Johnson"), (2, "Ana Diaz"), (3, ""), (4, ""), (5, ""),
    ]
    (email,) = mail.outbox
    assert email.subject.startswith("Seats added") and "Paid now: $140.00" in email.body and "Order total: $500.00" in email.body


def test_the_grown_order_page_shows_five_seats_at_the_team_price_and_both_payments(client, team, stripe_double, post_webhook):
    original_payment = team.stripe_payment_intent_id
    add_seats(client, team, 2)
    addition = the_addition(team)
    paid = stripe_double.pay(addition.stripe_checkout_session_id)
    post_webhook("checkout.session.completed", paid)
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert '<dt class="col-sm-4">Seats</dt><dd class="col-sm-8">5</dd>' in html
    assert "$100.00 (team price, 5+ seats)" in html and "$500.00" in html
    assert f"registration: $360.00 <span class=\"text-break\">(<code>{original_payment}</code>)" in html
    assert f"2 seats added: $140.00 <span class=\"text-break\">(<code>{paid['payment_intent']}</code>)" in html
    assert 'data-paid-cents="50000"' in html
    assert html.count("Name seat") == 3  # the third seat and the two new ones


def test_the_page_lists_what_adding_seats_costs(client, team):
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert "1 more seat: $120.00</li>" in html
    assert "2 more seats: $140.00 (every seat then $100.00)</li>" in html


def test_merging_is_idempotent_between_the_success_page_and_the_webhook(client, team, stripe_double, post_webhook):
    add_seats(client, team, 2)
    addition = the_addition(team)
    paid = stripe_double.pay(addition.stripe_checkout_session_id)
    response = client.get(f"/orders/{addition.token}/success/?session_id={addition.stripe_checkout_session_id}")
    assert response["Location"] == f"/orders/{team.token}/"
    post_webhook("checkout.session.completed", paid)
    post_webhook("checkout.session.async_payment_succeeded", paid)
    team.refresh_from_db()
    assert team.seat_count == 5 and team.seats.count() == 5 and team.total_cents == 50000
    assert len(mail.outbox) == 1


def test_seats_are_never_double_counted(client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=6)
    team = paid_order(client, workshop, stripe_double, post_webhook)
    assert "3 seats left" in client.get(workshop.get_absolute_url()).content.decode()
    add_seats(client, team, 2)
    assert "1 seat left" in client.get(workshop.get_absolute_url()).content.decode()  # held while paying
    post_webhook("checkout.session.completed", stripe_double.pay(the_addition(team).stripe_checkout_session_id))
    assert "1 seat left" in client.get(workshop.get_absolute_url()).content.decode()  # merged: counted once


def test_adding_more_seats_than_are_left_is_refused_beside_the_field(client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=4)
    team = paid_order(client, workshop, stripe_double, post_webhook)
    response = add_seats(client, team, 2)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Only 1 seat left. Please choose 1 or fewer." in html
    assert 'id="id_grow-extra_seats"' in html and 'value="2"' in html
    assert not Order.objects.filter(parent=team).exists()


@pytest.mark.parametrize("value, message", [("0", "Ensure this value is greater than or equal to 1."),
                                            ("two", "Enter a whole number of seats"), ("", "Enter how many seats to add.")])
def test_a_bad_seat_number_is_refused_beside_the_field(client, team, value, message):
    response = client.post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": value})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_pending_addition_holds_seats_until_its_hold_lapses(client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=5)
    team = paid_order(client, workshop, stripe_double, post_webhook)
    add_seats(client, team, 2)
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert "You are adding 2 seats: $140.00 to pay" in html and "Continue to payment" in html
    assert "sold out" in client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=32)):
        assert "2 seats left" in client.get(workshop.get_absolute_url()).content.decode()
        assert "Grow your team</h2>" in client.get(f"/orders/{team.token}/").content.decode()


def test_only_one_addition_at_a_time(client, team, stripe_double):
    add_seats(client, team, 1)
    response = add_seats(client, team, 2)
    assert response["Location"] == f"/orders/{team.token}/#add-seats"
    assert "still awaiting payment" in client.get(response["Location"]).content.decode()
    assert Order.objects.filter(parent=team).count() == 1


def test_cancelling_an_addition_releases_its_seats(client, team, stripe_double):
    add_seats(client, team, 2)
    addition = the_addition(team)
    response = client.post(f"/orders/{team.token}/add-seats/cancel/", follow=True)
    assert "have been released" in response.content.decode()
    addition.refresh_from_db()
    assert addition.status == Order.Status.CANCELLED
    assert stripe_double.sessions[addition.stripe_checkout_session_id]["status"] == "expired"


def test_leaving_checkout_returns_to_the_order_page(client, team, stripe_double):
    add_seats(client, team, 2)
    addition = the_addition(team)
    response = client.get(f"/orders/{addition.token}/cancel/")
    assert response["Location"] == f"/orders/{team.token}/"
    addition.refresh_from_db()
    assert addition.status == Order.Status.CANCELLED


def test_seats_can_be_added_by_invoice(client, team, stripe_double, post_webhook):
    response = add_seats(client, team, 2, **INVOICE)
    addition = the_addition(team)
    assert response["Location"] == f"/orders/{team.token}/"
    (item,) = [r["params"] for r in stripe_double.requests_to("POST", "/v1/invoiceitems")]
    assert (item["quantity"], item["unit_amount_decimal"]) == ("1", "14000")
    assert "Add 2 seats (team price now $100.00 each)" in item["description"]
    assert addition.hold_expires_at - timezone.now() > timedelta(days=13)
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert f"Invoice {addition.invoice_number} went to accounts@lincoln-usd.example" in html
    post_webhook("invoice.paid", stripe_double.pay_invoice(addition.stripe_invoice_id))
    team.refresh_from_db()
    assert (team.seat_count, team.total_cents) == (5, 50000)


def test_invoice_details_are_required_for_an_invoiced_addition(client, team):
    response = add_seats(client, team, 2, **{**INVOICE, "grow-billing_email": ""})
    assert response.status_code == 400
    assert "Enter the email address the invoice goes to." in response.content.decode()


def test_unpaid_orders_cannot_grow(client, workshop, stripe_double):
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=3))
    order = Order.objects.get()
    html = client.get(f"/orders/{order.token}/").content.decode()
    assert "Grow your team</h2>" not in html
    response = add_seats(client, order, 2)
    assert "once the order is paid" in client.get(response["Location"]).content.decode()
    assert not Order.objects.filter(parent=order).exists()


def test_seats_cannot_be_added_after_seat_changes_close(client, team, workshop):
    with time_machine.travel(workshop.sessions.order_by("starts_at").first().starts_at):
        assert "Grow your team</h2>" not in client.get(f"/orders/{team.token}/").content.decode()
        response = add_seats(client, team, 2)
        assert "Seat changes have closed" in client.get(response["Location"]).content.decode()
    assert not Order.objects.filter(parent=team).exists()


def addition_paid_after_its_seats_went(client, stripe_double, post_webhook) -> tuple[Order, Order, dict]:
    """A team of 3 in a 5-seat workshop adds 2 seats and pays for them 45 minutes later, when their
    hold has lapsed and someone else has taken the seats. Returns the team, the addition and the paid session."""
    workshop = WorkshopFactory(capacity=5)
    team = paid_order(client, workshop, stripe_double, post_webhook)
    add_seats(client, team, 2)
    addition = the_addition(team)
    paid = stripe_double.pay(addition.stripe_checkout_session_id)
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        OrderFactory(workshop=workshop, seat_count=2)
        post_webhook("checkout.session.completed", paid)
    return team, addition, paid


def test_a_late_addition_payment_with_the_seats_gone_is_refunded(client, stripe_double, post_webhook):
    team, addition, paid = addition_paid_after_its_seats_went(client, stripe_double, post_webhook)
    team.refresh_from_db()
    addition.refresh_from_db()
    assert (team.seat_count, team.total_cents) == (3, 36000)
    assert addition.status == Order.Status.REFUNDED
    (refund,) = [r["params"] for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert (refund["payment_intent"], refund["amount"]) == (paid["payment_intent"], "14000")


def test_an_automatic_refund_of_added_seats_returns_only_what_staff_had_not_refunded(client, stripe_double, post_webhook):
    from registrations.tasks import refund_oversold_order

    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")  # the automatic refund fails
    _, addition, paid = addition_paid_after_its_seats_went(client, stripe_double, post_webhook)
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(paid["payment_intent"], 5000))  # $50 by hand
    refund_oversold_order.call(addition.pk)  # the worker tries again
    addition.refresh_from_db()
    assert (addition.status, order_money(order=addition).returned_cents) == (Order.Status.REFUNDED, 14000)
    assert sum(addition.refunds.values_list("amount_cents", flat=True)) == 14000
    sent = [r["params"]["amount"] for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert sent[-1] == "9000"


def test_added_seats_never_cost_more_than_the_seats_already_bought(client, team, workshop, stripe_double):
    workshop.price_tiers.filter(min_seats=1).update(unit_price_cents=13000)  # prices rose since the team paid $120
    add_seats(client, team, 1)
    addition = the_addition(team)
    assert (addition.unit_price_cents, addition.total_cents) == (12000, 12000)


def test_refunding_a_grown_order_refunds_each_payment_within_its_amount(staff_client, client, team, stripe_double, post_webhook):
    first_payment = team.stripe_payment_intent_id
    add_seats(client, team, 2)
    paid = stripe_double.pay(the_addition(team).stripe_checkout_session_id)
    post_webhook("checkout.session.completed", paid)
    refund_whole_orders(staff_client, [team])
    team.refresh_from_db()
    assert (team.status, order_money(order=team).refunded_cents) == (Order.Status.REFUNDED, 50000)
    refunds = [(r["params"]["payment_intent"], r["params"]["amount"]) for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert refunds == [(paid["payment_intent"], "14000"), (first_payment, "36000")]
    # Stripe's charge.refunded events for both charges then change nothing.
    post_webhook("charge.refunded", {"id": "ch_2", "object": "charge", "payment_intent": paid["payment_intent"], "amount_refunded": 14000})
    post_webhook("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": first_payment, "amount_refunded": 36000})
    team.refresh_from_db()
    assert order_money(order=team).refunded_cents == 50000 and team.refunds.count() == 1


def test_refunding_one_seat_of_a_grown_order_prices_the_seats_kept_again(staff_client, client, team, stripe_double, post_webhook):
    add_seats(client, team, 2)
    paid = stripe_double.pay(the_addition(team).stripe_checkout_session_id)
    post_webhook("checkout.session.completed", paid)
    seat = team.seats.get(position=5)
    staff_client.post(
        "/admin/registrations/seat/", {"action": "refund_selected_seats", "_selected_action": [seat.pk], "post": "yes"}
    )
    (refund,) = [r["params"] for r in stripe_double.requests_to("POST", "/v1/refunds")]
    # $500 for 5 seats; the 4 kept cost $480 at the single-seat price, so $20 comes back (not the $100 team price).
    assert (refund["payment_intent"], refund["amount"]) == (paid["payment_intent"], "2000")
    assert Seat.objects.get(pk=seat.pk).status == Seat.Status.REFUNDED


def grown(client, team, stripe_double, post_webhook) -> tuple[str, str]:
    """The team of 3 grows to 5; returns the PaymentIntents of its two payments ($360, then $140)."""
    first_payment = team.stripe_payment_intent_id
    add_seats(client, team, 2)
    paid = stripe_double.pay(the_addition(team).stripe_checkout_session_id)
    post_webhook("checkout.session.completed", paid)
    return first_payment, paid["payment_intent"]


def charge_refunded(post_webhook, payment_intent: str, amount_refunded: int):
    post_webhook("charge.refunded", {"id": f"ch_{payment_intent}", "object": "charge", "payment_intent": payment_intent,
                                     "amount_refunded": amount_refunded})


def test_a_dashboard_refund_of_the_first_payment_is_counted_once_after_an_admin_refund(
    staff_client, client, team, stripe_double, post_webhook
):
    first_payment, added_payment = grown(client, team, stripe_double, post_webhook)
    charge_refunded(post_webhook, first_payment, 10000)  # staff refund $100 of the first charge in Stripe
    seats = list(team.seats.filter(position__in=[4, 5]))
    staff_client.post(
        "/admin/registrations/seat/", {"action": "refund_selected_seats", "_selected_action": [s.pk for s in seats], "post": "yes"}
    )
    # $400 kept; the 3 seats kept cost $360 at the single-seat price, so $40 comes back, from the added seats' charge.
    charge_refunded(post_webhook, added_payment, 4000)  # Stripe's event for the seats refunded from admin
    charge_refunded(post_webhook, first_payment, 10000)  # and the first charge's event, delivered again
    team.refresh_from_db()
    assert (order_money(order=team).refunded_cents, team.refunds.count()) == (14000, 2)


def test_after_the_first_payment_is_refunded_in_stripe_the_rest_comes_from_the_added_seats(
    staff_client, client, team, stripe_double, post_webhook
):
    first_payment, added_payment = grown(client, team, stripe_double, post_webhook)
    charge_refunded(post_webhook, first_payment, 36000)
    refund_whole_orders(staff_client, [team])
    refunds = [(r["params"]["payment_intent"], r["params"]["amount"]) for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert refunds == [(added_payment, "14000")]
    team.refresh_from_db()
    assert (team.status, order_money(order=team).refunded_cents) == (Order.Status.REFUNDED, 50000)


def test_order_admin_shows_which_payment_each_refund_came_from(staff_client, client, team, stripe_double, post_webhook):
    first_payment, _ = grown(client, team, stripe_double, post_webhook)
    charge_refunded(post_webhook, first_payment, 5000)
    page = staff_client.get(f"/admin/registrations/order/{team.pk}/change/").content.decode()
    assert f"$50.00 of {team.reference}" in page


def test_addition_order_link_leads_to_the_team_order(client, team, stripe_double):
    add_seats(client, team, 2)
    addition = the_addition(team)
    assert client.get(f"/orders/{addition.token}/")["Location"] == f"/orders/{team.token}/"


def test_without_stripe_key_added_seats_are_paid_with_a_test_payment(client, workshop, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=3))
    team = Order.objects.get()
    client.post(f"/orders/{team.token}/test-payment/")
    response = add_seats(client, team, 2)
    addition = the_addition(team)
    assert response["Location"] == f"/orders/{addition.token}/test-payment/"
    page = client.get(response["Location"]).content.decode()
    assert "Complete test payment of $140.00" in page and f"2 added to order {team.reference}" in page
    client.post(response["Location"])
    team.refresh_from_db()
    assert (team.seat_count, team.unit_price_cents, team.total_cents) == (5, 10000, 50000)


def test_staff_see_additions_in_admin(staff_client, client, team, stripe_double):
    add_seats(client, team, 2)
    addition = the_addition(team)
    html = staff_client.get(f"/admin/registrations/order/{team.pk}/change/").content.decode()
    assert addition.reference in html and "$140.00" in html
    html = staff_client.get("/admin/registrations/order/?kind__exact=addition").content.decode()
    assert addition.reference in html and f">{team.reference}<" not in html


@pytest.mark.postgres
def test_leads_adding_seats_and_new_buyers_never_overfill_the_workshop(stripe_double):
    workshop = WorkshopFactory(capacity=20)
    teams = [OrderFactory(workshop=workshop, seat_count=3, buyer_email=f"lead{n}@race.example") for n in range(5)]
    start = threading.Barrier(12)
    statuses: list[int] = []
    lock = threading.Lock()

    def post(url: str, data: dict) -> None:
        try:
            start.wait()
            response = Client().post(url, data)
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    jobs = [(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "2"}) for team in teams]
    jobs += [(f"/workshops/{workshop.slug}/register/", registration_data(buyer_email=f"new{n}@race.example")) for n in range(7)]
    threads = [threading.Thread(target=post, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Sent to pay, told beside the field, or (a new buyer after the last seat) shown the sold-out page.
    assert len(statuses) == 12 and set(statuses) <= {302, 400, 200}
    assert 19 <= seats_taken(workshop_id=workshop.pk) <= 20
    held = Order.objects.filter(status=Order.Status.PENDING)
    assert sum(o.seat_count for o in held) == seats_taken(workshop_id=workshop.pk) - 15
    assert statuses.count(302) == held.count() == len(stripe_double.sessions)


def refund_one_seat(staff_client, order, position: int):
    seat = order.seats.get(position=position)
    staff_client.post(
        "/admin/registrations/seat/", {"action": "refund_selected_seats", "_selected_action": [seat.pk], "post": "yes"}
    )


def test_after_a_seat_is_refunded_the_page_offers_no_prices_it_would_refuse(staff_client, client, team, stripe_double):
    refund_one_seat(staff_client, team, 3)
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert "data-addition-prices" not in html and 'action="/orders/' + team.token + '/add-seats/"' not in html
    assert "Money on this order was refunded, so we add seats to it for you" in html


def test_the_order_summary_counts_the_seats_left_and_the_money_refunded(staff_client, client, team, stripe_double):
    refund_one_seat(staff_client, team, 3)
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert "data-order-summary>2 seats (1 refunded) · $360.00, $120.00 refunded</span>" in html


def test_an_attendee_whose_seat_is_refunded_is_told_their_link_stopped_working(staff_client, client, team, stripe_double):
    """Only the buyer was emailed, and the attendee's link just answered 404 (found clicking through)."""
    seat = team.seats.get(position=2)
    seat.attendee_name, seat.attendee_email = "Bea Chen", "bea@lincoln.example"
    seat.save()
    refund_one_seat(staff_client, team, 2)
    to_bea = [m for m in mail.outbox if m.to == ["bea@lincoln.example"]]
    assert len(to_bea) == 1 and "Your seat at" in to_bea[0].subject and "has been cancelled" in to_bea[0].subject
    assert "Your attendee page and its link no longer work" in to_bea[0].body and "$" not in to_bea[0].body
    assert client.get(f"/seats/{seat.token}/").status_code == 404


def test_attendees_are_told_when_a_refund_in_stripes_dashboard_cancels_the_order(client, team, post_webhook):
    seat = team.seats.get(position=2)
    seat.attendee_name, seat.attendee_email = "Bea Chen", "bea@lincoln.example"
    seat.save()
    charge_refunded(post_webhook, team.stripe_payment_intent_id, team.total_cents)  # the whole payment, by hand
    charge_refunded(post_webhook, team.stripe_payment_intent_id, team.total_cents)  # and its event delivered again
    team.refresh_from_db()
    assert team.status == Order.Status.REFUNDED
    to_bea = [m for m in mail.outbox if m.to == ["bea@lincoln.example"]]
    assert len(to_bea) == 1 and "has been cancelled" in to_bea[0].subject


def test_the_add_seats_form_says_an_invoice_goes_out_when_the_button_is_pressed(client, team):
    """Choosing "Invoice" and pressing "Add seats" emails the invoice at once: the form says so before it is pressed."""
    html = client.get(f"/orders/{team.token}/").content.decode()
    assert "<strong>by invoice</strong>, we email the invoice to your billing contact straight away" in html
    assert html.index("data-add-seats-next") < html.index('data-busy-label="Adding seats…"')
