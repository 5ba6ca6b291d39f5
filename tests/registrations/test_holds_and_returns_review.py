"""A hostile review of two changes (the per-network cap on unpaid card holds, and money owed back reserved as a
pending refund), tried as a hostile buyer, an unlucky one and a careless staff member would: each test is an attack
through the public surface, kept because it found a problem or covers an edge the other tests do not."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from registrations.models import Order
from registrations.selectors.ledger import order_money
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.registrations.test_money_review import DATABASE_TASKS

pytestmark = pytest.mark.django_db(transaction=True)


def given_back_at_stripe(stripe_double, payment_intent) -> int:
    return sum(r["amount"] for r in stripe_double.refunds.values() if r["payment_intent"] == payment_intent)


def late_payment_stripe_will_not_return(client, stripe_double, post_webhook) -> tuple[Order, dict]:
    """Two seats paid after their hold lapsed and the workshop filled; Stripe refuses the return for now."""
    workshop = WorkshopFactory(capacity=2)
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    late = Order.objects.get()
    session = stripe_double.pay(late.stripe_checkout_session_id)
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        OrderFactory(workshop=workshop, seat_count=2, unit_price_cents=12000)
        post_webhook("checkout.session.completed", session)
        stripe_double.fail_next(status=500, times=1, path_prefix="/v1/refunds", method="POST")
        call_command("run_worker", "--batch")
    late.refresh_from_db()
    assert late.status == Order.Status.NEEDS_REFUND and order_money(order=late).pending_return_cents == 24000
    return late, session


@override_settings(TASKS=DATABASE_TASKS)
def test_a_late_payment_staff_return_in_stripes_dashboard_tells_the_buyer_once(client, stripe_double, post_webhook):
    """Staff follow the alert ("refund it in Stripe's dashboard"): the buyer is told their money came back, as when
    the worker returns it, and the worker's retry neither refunds again nor tells them twice."""
    late, session = late_payment_stripe_will_not_return(client, stripe_double, post_webhook)
    mail.outbox.clear()
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(session["payment_intent"], 24000))
    with time_machine.travel(timezone.now() + timedelta(minutes=50)):
        call_command("run_worker", "--batch")
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED
    assert given_back_at_stripe(stripe_double, session["payment_intent"]) == 24000
    to_buyer = [m for m in mail.outbox if m.to == [late.buyer_email]]
    assert len(to_buyer) == 1 and "refunded" in to_buyer[0].subject and "$240.00" in to_buyer[0].body


@override_settings(TASKS=DATABASE_TASKS)
def test_part_returned_by_hand_then_the_rest_by_the_worker_gives_back_exactly_what_was_paid(
    client, staff_client, stripe_double, post_webhook
):
    """Staff return $100 of a refused $240 by hand; Stripe's events arrive twice and out of order; the worker then
    returns the other $140 (a new idempotency key: the amount changed). Stripe, ledger, receipt and CSV agree."""
    late, session = late_payment_stripe_will_not_return(client, stripe_double, post_webhook)
    intent = session["payment_intent"]
    mail.outbox.clear()
    first = stripe_double.refund_in_dashboard(intent, 10000)
    post_webhook("charge.refunded", first)
    assert order_money(order=late).pending_return_cents == 14000
    with time_machine.travel(timezone.now() + timedelta(minutes=50)):
        call_command("run_worker", "--batch")
    post_webhook("charge.refunded", stripe_double.charge(intent))  # the worker's refund: cumulative $240
    post_webhook("charge.refunded", {**first, "id": "ch_replayed"})  # an older cumulative figure, late
    assert given_back_at_stripe(stripe_double, intent) == 24000
    money = order_money(order=late)
    assert (money.returned_cents, money.pending_return_cents, money.paid_cents, money.refunded_cents) == (24000, 0, 0, 0)
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED
    finance = staff_client.get("/admin/registrations/payment/finance/", {"workshop": late.workshop_id, "download": "1"})
    rows = list(csv.DictReader(io.StringIO(finance.content.decode("utf-8-sig"))))
    assert sorted((row["Amount"], row["Counts toward revenue"]) for row in rows if row["Order"] == late.reference) == [
        ("-100.00", "no"), ("-140.00", "no"), ("240.00", "no")
    ]
    assert len([m for m in mail.outbox if m.to == [late.buyer_email] and "refunded" in m.subject]) == 1


@override_settings(TASKS=DATABASE_TASKS)
def test_when_the_worker_gives_up_the_money_stays_owed_back_and_staff_are_told_again(client, stripe_double, post_webhook):
    late, session = late_payment_stripe_will_not_return(client, stripe_double, post_webhook)
    stripe_double.fail_next(status=500, times=100, path_prefix="/v1/refunds", method="POST")
    later = timezone.now() + timedelta(minutes=45)
    for _ in range(12):
        later += timedelta(hours=2)
        with time_machine.travel(later):
            call_command("run_worker", "--batch")
    assert len(stripe_double.requests_to("POST", "/v1/refunds")) == 12  # RETURN_ATTEMPTS, then no more
    late.refresh_from_db()
    assert late.status == Order.Status.NEEDS_REFUND and late.payment_needs_review
    assert order_money(order=late).pending_return_cents == 24000
    alerts = [m for m in mail.outbox if m.to == [django_settings.STAFF_ALERT_EMAIL]]
    assert len(alerts) == 2 and "$240.00" in alerts[0].body and "Automatic retries have stopped" in alerts[1].body


# --- the per-network cap on unpaid card holds, attacked ------------------------------------------------------------

SCHOOL = "203.0.113.5"


@pytest.fixture
def cap(settings):
    settings.CHECKOUT_HOLD_SEATS_PER_NETWORK = 6
    return 6


def register(client, workshop, seats, n, address=SCHOOL, **headers):
    data = registration_data(seat_count=seats, buyer_email=f"buyer{n}@school.example")
    return client.post(f"/workshops/{workshop.slug}/register/", data, REMOTE_ADDR=address, **headers)


def test_with_no_proxy_trusted_forwarding_headers_do_not_make_a_new_network(client, cap, stripe_double):
    workshop = WorkshopFactory(capacity=100)
    assert register(client, workshop, 6, 0).status_code == 302
    spoofs = [
        {"HTTP_X_FORWARDED_FOR": "198.51.100.1"}, {"HTTP_X_REAL_IP": "198.51.100.2"},
        {"HTTP_FORWARDED": "for=198.51.100.3"}, {"HTTP_X_FORWARDED_FOR": "198.51.100.4, 198.51.100.5"},
    ]
    for n, headers in enumerate(spoofs, start=1):
        assert register(client, workshop, 1, n, **headers).status_code == 400
    assert register(client, workshop, 1, 9, address=f"::ffff:{SCHOOL}").status_code == 400  # IPv4-mapped: the same
    assert Order.objects.count() == 1


def test_hopping_addresses_inside_one_ipv6_64_is_one_network(client, cap, stripe_double):
    workshop = WorkshopFactory(capacity=100)
    assert register(client, workshop, 6, 0, address="2001:db8:5:6::1").status_code == 302
    for n, address in enumerate(["2001:db8:5:6::2", "2001:db8:5:6:ffff:1:2:3", "2001:DB8:5:6:0:0:0:9"], start=1):
        assert register(client, workshop, 1, n, address=address).status_code == 400
    assert Order.objects.count() == 1


@pytest.mark.parametrize("forwarded", [
    ("203.0.113.5:4711", "203.0.113.5:4712"),  # some proxies append the client's port
    ("[2001:db8:5:6::1]:443", "[2001:db8:5:6::2]:444"),
    ("[2001:db8:5:6::1]", "2001:db8:5:6::2"),
])
def test_behind_a_proxy_that_adds_ports_a_new_connection_is_not_a_new_network(client, cap, stripe_double, settings, forwarded):
    settings.RATE_LIMIT_TRUSTED_PROXIES = 1
    workshop = WorkshopFactory(capacity=100)
    first, second = forwarded
    assert register(client, workshop, 6, 0, address="10.0.0.2", HTTP_X_FORWARDED_FOR=first).status_code == 302
    assert register(client, workshop, 1, 1, address="10.0.0.2", HTTP_X_FORWARDED_FOR=second).status_code == 400
    assert Order.objects.count() == 1


@pytest.mark.parametrize("address", ["", "unix:", "fe80::1%eth0", "not an address", "999.1.1.1", "[::1]:80"])
def test_an_odd_remote_address_still_registers(client, cap, stripe_double, address):
    workshop = WorkshopFactory(capacity=100)
    assert register(client, workshop, 2, 0, address=address).status_code == 302
    assert Order.objects.get().hold_source


def test_a_colleague_refused_by_the_cap_is_not_told_the_checkouts_are_theirs(client, cap, stripe_double):
    """Teachers share a school's address: the one refused learns only how many seats others hold, and is not told to
    pay for or cancel checkouts they never started."""
    workshop = WorkshopFactory(capacity=100)
    register(client, workshop, 6, 0)
    html = register(client, workshop, 1, 1).content.decode()
    assert "Unpaid card checkouts from your network already hold 6 seats" in html
    assert "your open checkouts" not in html and "if some of them are yours" in html
    assert "buyer0@school.example" not in html


def test_seats_added_to_a_paid_order_count_toward_the_networks_card_holds(client, cap, stripe_double, post_webhook):
    """Otherwise one paid seat lets a network hold 49 more by card, again and again (cancel, add again), past the cap."""
    workshop = WorkshopFactory(capacity=100)
    register(client, workshop, 1, 0)
    team = Order.objects.get()
    post_webhook("checkout.session.completed", stripe_double.pay(team.stripe_checkout_session_id))
    add = {"grow-extra_seats": "6", "grow-payment_method": "card"}
    assert client.post(f"/orders/{team.token}/add-seats/", add, REMOTE_ADDR=SCHOOL).status_code == 302
    assert register(client, workshop, 1, 1).status_code == 400  # the added seats are this network's card holds
    client.post(f"/orders/{team.token}/add-seats/cancel/", REMOTE_ADDR=SCHOOL)
    assert register(client, workshop, 4, 2).status_code == 302
    response = client.post(f"/orders/{team.token}/add-seats/", {**add, "grow-extra_seats": "3"}, REMOTE_ADDR=SCHOOL)
    assert response.status_code == 400
    assert "already hold 4 seats" in response.content.decode() and "you can choose up to 2 now" in response.content.decode()
    assert Order.objects.filter(parent=team, status=Order.Status.PENDING).count() == 0


# --- money owed back that Stripe cannot return ------------------------------------------------------------------------


def test_a_cheque_that_came_too_late_is_left_to_staff_to_return_and_they_are_told(client, django_user_model, stripe_double):
    """Staff mark a lapsed invoice paid by cheque after its seats were sold: the cheque cannot stand, and no refund
    API can return it, so staff are told to send it back, beside the order."""
    workshop = WorkshopFactory(capacity=2, invoice_hold_percent=100)
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2, **{
        "payment_method": "invoice", "billing_name": "Dana Ruiz", "billing_email": "accounts@lincoln-usd.example",
        "billing_line1": "100 Main Street", "billing_city": "Oakland", "billing_state": "CA", "billing_postal_code": "94612",
    }))
    late = Order.objects.get()
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        OrderFactory(workshop=workshop, seat_count=2)
        mail.outbox.clear()
        staff = django_user_model.objects.create_user("fin", "fin@example.org", "pw", is_staff=True, is_superuser=True)
        client.force_login(staff)  # logged in now: a session from 15 days ago would have expired
        client.post("/admin/registrations/order/", {"action": "mark_invoice_paid_out_of_band", "_selected_action": [late.pk]})
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED and not stripe_double.requests_to("POST", "/v1/refunds")
    assert late.payment_needs_review
    alerts = [m for m in mail.outbox if m.to == [django_settings.STAFF_ALERT_EMAIL]]
    assert alerts and "$240.00" in alerts[-1].body and "cheque" in alerts[-1].body


@override_settings(TASKS=DATABASE_TASKS)
def test_a_refused_payment_whose_return_stripe_has_not_taken_is_not_called_returned(client, stripe_double, post_webhook):
    late, _ = late_payment_stripe_will_not_return(client, stripe_double, post_webhook)
    html = client.get(f"/orders/{late.token}/").content.decode()
    assert "<strong>not accepted: being returned</strong>" in html
    assert "<strong>not accepted: returned</strong>" not in html
