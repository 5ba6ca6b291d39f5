"""One regression test per finding of the money review (issue 14), numbered as there. Each failed on the code before
the payment ledger; each goes through the public surface: the forms, signed webhooks, the admin and the Stripe double."""

import csv
import io
import json
import re
import time
from datetime import timedelta

import pytest
import stripe
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from registrations.models import Order, Voucher
from registrations.selectors.availability import seats_taken
from tests.conftest import WEBHOOK_SECRET
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import INVOICE_BILLING as BILLING
from tests.registrations.helpers import refund_whole_orders
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)


def register(client, workshop, **kwargs):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(**kwargs))


def latest(**filters) -> Order:
    return Order.objects.filter(**filters).latest("created_at")


def staff_emails() -> list:
    return [m for m in mail.outbox if m.to == [django_settings.STAFF_ALERT_EMAIL]]


def receipt(client, order) -> dict:
    """The money figures the buyer's receipt shows (read from the ledger), in cents; None when not shown."""
    html = client.get(f"/orders/{order.token}/").content.decode()
    figures = {}
    for name in ("total", "paid", "refunded", "net"):
        found = re.search(rf'data-{name}-cents="(\d+)"', html)
        figures[name] = int(found.group(1)) if found else None
    return figures


def add_seats(client, order, extra, **data):
    return client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": str(extra), "grow-payment_method": "card", **data})


# --- 1. A single-use 100 % scholarship code paid for a 50-seat order ---------------------------------------------


def test_1_a_generated_scholarship_code_covers_one_seat_not_a_whole_team(client, staff_client, stripe_double):
    workshop = WorkshopFactory(capacity=60)
    staff_client.post(
        "/admin/registrations/voucher/generate/",
        {"count": 1, "prefix": "schol", "label": "Spring", "kind": "percent", "percent_off": 100, "applies_to": "seat"},
    )
    code = Voucher.objects.get().code
    register(client, workshop, seat_count=50, voucher_code=code)
    order = latest()
    assert (order.total_cents, order.discount_cents) == (49 * 10000, 10000)
    assert order.voucher_seat_count == 1
    assert stripe_double.sessions[order.stripe_checkout_session_id]["amount_total"] == 49 * 10000
    # Its one seat is held by that order, so the code is used up for anyone else.
    response = register(client, workshop, buyer_email="second@school.example", voucher_code=code)
    assert "already been used for every seat it covers" in response.content.decode()


# --- 2. Unpaid invoice requests held 141 of 150 seats; card holds renewed for a day -------------------------------


def test_2_unpaid_invoice_requests_cannot_take_the_workshop_off_sale(client, stripe_double):
    workshop = WorkshopFactory(capacity=150)
    for n, seats in enumerate((45, 47, 49)):
        register(client, workshop, seat_count=seats, **{
            **BILLING, "buyer_email": f"lead{n}@district{n}.example", "billing_email": f"ap{n}@district{n}.example",
            "billing_line1": f"{n} Elm Street",
        })
    assert Order.objects.count() == 1  # 30 % of 150: the first request holds the invoices' share
    response = register(client, workshop, seat_count=5, **{
        **BILLING, "buyer_email": "late@district9.example", "billing_email": "ap@district9.example", "billing_line1": "9 Oak St",
    })
    assert response.status_code == 400
    assert "Unpaid invoices can hold at most 45 of this workshop&#x27;s 150 seats" in response.content.decode()
    page = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert "105 seats left" in page and "sold out" not in page.lower()
    register(client, workshop, seat_count=50, buyer_email="card@school.example")  # still on sale, by card
    assert latest(buyer_email="card@school.example").status == Order.Status.PENDING


def test_2_a_card_hold_cannot_be_stretched_for_a_day_by_renewing_it(client, workshop, stripe_double):
    register(client, workshop, seat_count=3)
    order = latest()
    with time_machine.travel(timezone.now() + timedelta(hours=20)):
        response = client.post(f"/orders/{order.token}/pay/", follow=True)
        assert "held for as long as we can hold them" in response.content.decode()
        assert seats_taken(workshop_id=workshop.pk) == 0
    order.refresh_from_db()
    assert order.hold_expires_at <= order.created_at + timedelta(hours=2)
    assert len(stripe_double.sessions) == 1


# --- 3. A session the site did not create (a Payment Link) paid a $500 order with 1 JPY ---------------------------


def test_3_a_payment_from_a_session_the_site_did_not_create_pays_nothing(client, staff_client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    register(client, workshop, seat_count=5)
    order = latest()
    ours = order.stripe_checkout_session_id
    link = {"id": "cs_live_payment_link", "object": "checkout.session", "client_reference_id": order.reference,
            "payment_status": "paid", "status": "complete", "amount_total": 1, "currency": "jpy", "payment_intent": "pi_link"}
    assert post_webhook("checkout.session.completed", link).status_code == 200
    assert post_webhook("checkout.session.completed", link).status_code == 200  # delivered again, as a new event
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.stripe_checkout_session_id == ours and order.stripe_payment_intent_id == ""
    assert receipt(client, order)["paid"] == 0  # listed, not counted
    assert len(staff_emails()) == 1 and order.reference in staff_emails()[0].subject
    listing = staff_client.get("/admin/registrations/order/?payment_needs_review__exact=1").content.decode()
    assert order.reference in listing
    payments = staff_client.get("/admin/registrations/payment/?status__exact=review").content.decode()
    assert "pi_link" in payments


def test_3_an_invoice_paid_for_another_amount_does_not_pay_the_order(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    register(client, workshop, seat_count=5, **BILLING)
    order = latest()
    invoice = {**stripe_double.invoice(order.stripe_invoice_id), "status": "paid", "amount_paid": 100}
    assert post_webhook("invoice.paid", invoice).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.invoice_status == Order.InvoiceStatus.OPEN
    assert len(staff_emails()) == 1


# --- 4. A bank debit completing after the hold lapsed: capacity 1, two seats paid; a one-seat code paid twice --------


def test_4_a_bank_debit_completing_after_the_hold_lapsed_does_not_oversell(client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=1)
    register(client, workshop, buyer_email="slow@school.example")
    slow = latest()
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        register(client, workshop, buyer_email="fast@school.example")
        fast = latest(buyer_email="fast@school.example")
        post_webhook("checkout.session.completed", stripe_double.pay(fast.stripe_checkout_session_id))
        post_webhook("checkout.session.completed", stripe_double.start_delayed_payment(slow.stripe_checkout_session_id))
        assert seats_taken(workshop_id=workshop.pk) == 1
        post_webhook("checkout.session.async_payment_succeeded", stripe_double.pay(slow.stripe_checkout_session_id))
        assert seats_taken(workshop_id=workshop.pk) == 1
    slow.refresh_from_db()
    assert slow.status == Order.Status.REFUNDED
    (refund,) = stripe_double.requests_to("POST", "/v1/refunds")
    assert refund["params"]["amount"] == "12000"
    assert any(m.to == ["slow@school.example"] and "refunded" in m.subject for m in mail.outbox)


def test_4_a_single_use_code_is_not_paid_for_twice_by_a_late_bank_debit(client, staff_client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=10)
    staff_client.post(
        "/admin/registrations/voucher/generate/",
        {"count": 1, "prefix": "half", "label": "Half", "kind": "percent", "percent_off": 50, "applies_to": "seat"},
    )
    code = Voucher.objects.get().code
    register(client, workshop, buyer_email="slow@school.example", voucher_code=code)
    slow = latest()
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        register(client, workshop, buyer_email="fast@school.example", voucher_code=code)
        fast = latest(buyer_email="fast@school.example")
        post_webhook("checkout.session.completed", stripe_double.pay(fast.stripe_checkout_session_id))
        post_webhook("checkout.session.completed", stripe_double.start_delayed_payment(slow.stripe_checkout_session_id))
        post_webhook("checkout.session.async_payment_succeeded", stripe_double.pay(slow.stripe_checkout_session_id))
    slow.refresh_from_db()
    assert slow.status == Order.Status.REFUNDED
    assert Order.objects.filter(voucher__code=code, status=Order.Status.PAID).count() == 1


# --- 5. Two additions priced for the same seat count: 7 seats for $640; a free order's growth credit --------------


def test_5_two_additions_priced_for_the_same_seat_count_leave_the_team_paying_its_tier(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    register(client, workshop, seat_count=3)
    team = latest()
    post_webhook("checkout.session.completed", stripe_double.pay(team.stripe_checkout_session_id))
    add_seats(client, team, 2)
    first = Order.objects.get(parent=team)
    first_paid = stripe_double.pay(first.stripe_checkout_session_id)  # paid; its webhook is late
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        add_seats(client, team, 2)  # the first addition's hold had lapsed: priced again for 3 seats
        second = Order.objects.filter(parent=team).latest("created_at")
        assert second.total_cents == 14000
        post_webhook("checkout.session.completed", stripe_double.pay(second.stripe_checkout_session_id))
        post_webhook("checkout.session.completed", first_paid)
    team.refresh_from_db()
    assert (team.seat_count, team.unit_price_cents, team.total_cents) == (5, 10000, 50000)
    assert receipt(client, team)["paid"] == 50000
    first.refresh_from_db()
    assert first.status == Order.Status.REFUNDED  # it would now cost $200, not the $140 paid
    assert [r["params"]["amount"] for r in stripe_double.requests_to("POST", "/v1/refunds")] == ["14000"]


def test_5_growing_an_order_a_code_made_free_charges_for_the_new_seat(client, stripe_double):
    workshop = WorkshopFactory()
    Voucher.objects.create(code="FREEDOM", kind="percent", percent_off=100)
    register(client, workshop, seat_count=4, voucher_code="FREEDOM")
    team = latest()
    assert (team.status, team.total_cents) == (Order.Status.PAID, 0)
    add_seats(client, team, 1)
    addition = Order.objects.get(parent=team)
    # Five seats at $100 with the code on the four it covered: $100, the price of the new seat, not $500 - $480.
    assert addition.total_cents == 10000
    assert stripe_double.sessions[addition.stripe_checkout_session_id]["amount_total"] == 10000


# --- 6. The duplicate-payment refund asked Stripe for the order's current total -----------------------------------


def test_6_a_duplicate_payment_is_refunded_for_its_own_amount(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    register(client, workshop, seat_count=3)
    order = latest()
    first = order.stripe_checkout_session_id
    stripe_double.fail_next(status=500, path_prefix=f"/v1/checkout/sessions/{first}/expire")
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        client.post(f"/orders/{order.token}/pay/")  # renewed: a second session, the first could not be closed
        order.refresh_from_db()
        post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
        add_seats(client, order, 2)
        post_webhook("checkout.session.completed", stripe_double.pay(Order.objects.get(parent=order).stripe_checkout_session_id))
        duplicate = stripe_double.pay(first)  # the other tab: $360 paid again
        post_webhook("checkout.session.completed", duplicate)
    refunds = [(r["params"]["payment_intent"], r["params"]["amount"]) for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert refunds == [(duplicate["payment_intent"], "36000")]
    figures = receipt(client, order)
    assert (figures["total"], figures["paid"]) == (50000, 50000)


# --- 7. The test-invoice page paid orders with live keys; real payments refunded as re_local_ -----------------------


def test_7_the_test_invoice_page_is_404_when_a_stripe_key_is_set(client, workshop, stripe_double):
    order = OrderFactory(workshop=workshop, status=Order.Status.PENDING, paid_at=None, payment_method="invoice",
                         stripe_invoice_id="in_local_forged", invoice_status="open", stripe_payment_intent_id="")
    assert client.get(f"/orders/{order.token}/test-invoice/").status_code == 404
    assert client.post(f"/orders/{order.token}/test-invoice/").status_code == 404
    assert client.post(f"/orders/{order.token}/test-payment/").status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_7_a_real_payment_is_not_refunded_locally_without_a_stripe_key(staff_client, workshop, settings):
    settings.STRIPE_SECRET_KEY = ""
    order = OrderFactory(workshop=workshop, seat_count=2, stripe_payment_intent_id="pi_3RealCardPayment")
    response = refund_whole_orders(staff_client, [order])
    assert "no Stripe key is configured" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and not order.refunds.exists()


# --- 8. A dashboard refund of an invoice-paid order was never recorded ---------------------------------------------


def test_8_a_dashboard_refund_of_an_invoice_paid_order_is_recorded(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    register(client, workshop, seat_count=5, **BILLING)
    order = latest()
    paid = stripe_double.pay_invoice(order.stripe_invoice_id)
    assert "payments" not in paid  # as Stripe sends it: the PaymentIntent is not in the event
    post_webhook("invoice.paid", paid)
    intent = stripe_double.invoice(order.stripe_invoice_id)["payments"]["data"][0]["payment"]["payment_intent"]
    assert post_webhook("charge.refunded", stripe_double.refund_in_dashboard(intent, 50000)).content == b"refund recorded"
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert (receipt(client, order)["refunded"], receipt(client, order)["net"]) == (50000, 0)


# --- 9. A literal backslash-u-0000 in a name lost a payment; an oversized body answered 500 -------------------------


def test_9_an_event_with_a_backslash_u0000_in_its_text_still_pays(client, workshop, stripe_double, post_webhook):
    register(client, workshop)
    order = latest()
    session = {**stripe_double.pay(order.stripe_checkout_session_id), "customer_details": {"name": "Ana \\u0000 Ruiz"}}
    response = post_webhook("checkout.session.completed", session)
    assert (response.status_code, response.content) == (200, b"order paid")


def test_9_a_webhook_body_over_the_upload_limit_is_refused_with_400(client, stripe_double):
    payload = json.dumps({"id": "evt_big", "type": "checkout.session.completed", "data": {"object": {"pad": "x" * 3_000_000}}})
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET, timestamp=int(time.time()))
    response = client.post("/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400


# --- 10. After growth, the invoice panel and receipt showed the merged total; the list and CSV counted seats twice ---


@pytest.fixture
def invoiced_team_that_grew(client, stripe_double, post_webhook):
    """Six seats invoiced and paid ($600), then four more by card ($400)."""
    workshop = WorkshopFactory()
    register(client, workshop, seat_count=6, **BILLING)
    team = latest()
    post_webhook("invoice.paid", stripe_double.pay_invoice(team.stripe_invoice_id))
    add_seats(client, team, 4)
    post_webhook("checkout.session.completed", stripe_double.pay(Order.objects.get(parent=team).stripe_checkout_session_id))
    team.refresh_from_db()
    assert (team.seat_count, team.total_cents) == (10, 100000)
    return team


def test_10_after_a_team_grows_the_invoice_shows_what_was_invoiced(client, invoiced_team_that_grew):
    html = client.get(f"/orders/{invoiced_team_that_grew.token}/").content.decode()
    assert 'data-invoice-amount-cents="60000">$600.00</dd>' in html
    assert f"{invoiced_team_that_grew.invoice_number}, issued for $600.00" in html
    assert 'data-paid-cents="100000"' in html


def test_10_the_orders_list_and_csv_count_added_seats_once(staff_client, invoiced_team_that_grew):
    listing = staff_client.get("/admin/registrations/order/").content.decode()
    totals = re.findall(r'<td class="field-total"><span class="money">\$([\d,]+\.\d\d)</span></td>', listing)
    assert sum(float(t.replace(",", "")) for t in totals) == 1000.00
    response = staff_client.post(
        "/admin/registrations/order/",
        {"action": "export_csv", "select_across": "1", "_selected_action": [invoiced_team_that_grew.pk]},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert sum(float(r["Paid (USD)"]) for r in rows) == 1000.00
    assert sum(int(r["Seats"] or 0) for r in rows) == 10
