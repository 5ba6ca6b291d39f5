"""Paying by invoice: the form, the Stripe invoice, its webhooks, cheques, reminders and lapses, the PO number."""

import csv
import io
import json
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
import stripe
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from registrations.models import Order, StripeEvent, Voucher
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import refund_whole_orders, registration_data

# Fulfilment and its emails happen on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

BILLING = {
    "payment_method": "invoice",
    "billing_name": "Dana Ruiz",
    "billing_email": "accounts@lincoln-usd.example",
    "billing_line1": "100 Main Street",
    "billing_line2": "Finance office",
    "billing_city": "Oakland",
    "billing_state": "CA",
    "billing_postal_code": "94612",
    "billing_country": "US",
    "po_number": "PO-2027-0042",
}


def register_invoice(client, workshop, seat_count=5, **overrides):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=seat_count, **{**BILLING, **overrides}))


@pytest.fixture
def invoice_order(client, workshop, stripe_double):
    register_invoice(client, workshop)
    mail.outbox.clear()
    return Order.objects.get()


def only_invoice(stripe_double) -> dict:
    (invoice,) = stripe_double.invoices.values()
    return invoice


def run_reminders() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


# --- the registration form ------------------------------------------------------------------


def test_invoice_choice_creates_finalizes_and_sends_a_stripe_invoice(client, workshop, stripe_double):
    response = register_invoice(client, workshop, seat_count=5)
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.token}/"
    customer_call = stripe_double.requests_to("POST", "/v1/customers")[0]["params"]
    assert customer_call["email"] == "accounts@lincoln-usd.example" and customer_call["name"] == "Dana Ruiz"
    assert customer_call["address"] == {
        "line1": "100 Main Street", "line2": "Finance office", "city": "Oakland", "state": "CA",
        "postal_code": "94612", "country": "US",
    }
    invoice_call = stripe_double.requests_to("POST", "/v1/invoices")[0]["params"]
    assert invoice_call["collection_method"] == "send_invoice"
    assert invoice_call["days_until_due"] == "14"
    assert invoice_call["custom_fields"] == [{"name": "PO number", "value": "PO-2027-0042"}]
    assert invoice_call["metadata"] == {"order_reference": order.reference}
    (item,) = [r["params"] for r in stripe_double.requests_to("POST", "/v1/invoiceitems")]
    assert (item["quantity"], item["unit_amount_decimal"], item["invoice"]) == ("5", "10000", order.stripe_invoice_id)
    invoice = only_invoice(stripe_double)
    assert (invoice["status"], invoice["amount_due"], invoice["sent_count"]) == ("open", 50000, 1)
    assert order.payment_method == Order.PaymentMethod.INVOICE
    assert (order.status, order.invoice_status) == (Order.Status.PENDING, Order.InvoiceStatus.OPEN)
    assert order.invoice_number == invoice["number"] and order.stripe_invoice_url == invoice["hosted_invoice_url"]
    assert order.stripe_customer_id == invoice["customer"]
    assert int(order.invoice_due_at.timestamp()) == invoice["due_date"]
    assert order.po_number == "PO-2027-0042" and order.billing_city == "Oakland"
    assert timedelta(days=13, hours=23) < order.hold_expires_at - timezone.now() <= timedelta(days=14)


def test_every_invoice_step_has_its_own_idempotency_key_from_the_order_reference(client, workshop, stripe_double):
    register_invoice(client, workshop)
    order = Order.objects.get()
    keys = [r["idempotency_key"] for r in stripe_double.requests if r["method"] == "POST"]
    ref = order.reference
    assert keys == [
        f"invoice-customer-{ref}", f"invoice-{ref}", f"invoice-item-{ref}-1", f"invoice-finalize-{ref}", f"invoice-send-{ref}",
    ]


def test_invoice_hold_days_are_a_setting(client, workshop, stripe_double, settings):
    settings.INVOICE_HOLD_DAYS = 30
    register_invoice(client, workshop)
    order = Order.objects.get()
    assert stripe_double.requests_to("POST", "/v1/invoices")[0]["params"]["days_until_due"] == "30"
    assert order.hold_expires_at - timezone.now() > timedelta(days=29)


def test_a_discounted_order_is_invoiced_for_exactly_its_discounted_total(client, workshop, stripe_double):
    Voucher.objects.create(code="SAVE20", kind=Voucher.Kind.FIXED, amount_off_cents=2000, applies_to=Voucher.AppliesTo.SEAT)
    register_invoice(client, workshop, seat_count=2, voucher_code="save20")
    order = Order.objects.get()
    items = [r["params"] for r in stripe_double.requests_to("POST", "/v1/invoiceitems")]
    assert [(i.get("quantity"), i.get("unit_amount_decimal"), i.get("amount")) for i in items] == [
        ("2", "12000", None), (None, None, "-4000"),
    ]
    assert "SAVE20" in items[1]["description"]
    assert only_invoice(stripe_double)["amount_due"] == order.total_cents == 20000


def test_missing_invoice_details_are_shown_beside_each_field_and_input_is_kept(client, workshop, stripe_double):
    response = register_invoice(client, workshop, billing_name="", billing_city="  ", billing_email="not-an-email")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter the name of the person who pays the invoice." in html
    assert "Enter the city." in html
    assert "Enter a valid email address." in html
    assert 'value="100 Main Street"' in html and 'value="PO-2027-0042"' in html and 'value="Maya Johnson"' in html
    assert 'value="invoice"  id="id_payment_method_1" checked>' in html
    assert not Order.objects.exists()
    assert not stripe_double.requests


def test_a_bad_country_code_is_refused_beside_the_field(client, workshop, stripe_double):
    response = register_invoice(client, workshop, billing_country="United States")
    assert response.status_code == 400
    assert "Use the two-letter country code" in response.content.decode()


def test_card_is_the_default_and_ignores_half_filled_invoice_fields(client, workshop, stripe_double):
    data = registration_data(seat_count=2, billing_name="Dana", billing_city="")
    response = client.post(f"/workshops/{workshop.slug}/register/", data)
    order = Order.objects.get()
    assert response["Location"].startswith("https://checkout.stripe.test/")
    assert order.payment_method == Order.PaymentMethod.CARD
    assert not stripe_double.requests_to("POST", "/v1/invoices")


def test_an_unknown_payment_method_is_refused(client, workshop, stripe_double):
    response = register_invoice(client, workshop, payment_method="bitcoin")
    assert response.status_code == 400
    assert "Choose card or invoice." in response.content.decode()


def test_registration_page_offers_both_ways_to_pay(client, workshop):
    html = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert "Pay by card now" in html and "Invoice my organisation" in html
    for label in ("Billing contact name", "Billing contact email", "Address line 1", "City", "State", "ZIP or postal code",
                  "Country", "Purchase-order number (optional)"):
        assert f"{label}" in html
    assert html.count("<h1") == 1


# --- Stripe failing --------------------------------------------------------------------------


@pytest.mark.parametrize("status, path", [(500, "/v1/invoices/"), (402, "/v1/customers"), (400, "/v1/invoiceitems")])
def test_stripe_error_keeps_the_order_and_a_retry_resumes(client, workshop, stripe_double, status, path, caplog):
    stripe_double.fail_next(status=status, path_prefix=path)
    response = register_invoice(client, workshop)
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.token}/"
    page = client.get(response["Location"]).content.decode()
    assert "We could not create your invoice just now" in page and "Send the invoice" in page
    assert order.status == Order.Status.PENDING
    assert "Stripe refused or failed the invoice" in caplog.text
    client.post(f"/orders/{order.token}/pay/")
    order.refresh_from_db()
    assert order.invoice_status == Order.InvoiceStatus.OPEN
    assert len(stripe_double.customers) == 1 and len(stripe_double.invoices) == 1
    assert len(stripe_double.invoice_items) == 1
    assert only_invoice(stripe_double)["amount_due"] == 50000


def test_a_sent_invoice_is_not_sent_again(client, invoice_order, stripe_double):
    client.post(f"/orders/{invoice_order.token}/pay/")
    assert len(stripe_double.requests_to("POST", f"/v1/invoices/{invoice_order.stripe_invoice_id}/send")) == 1


# --- webhooks ---------------------------------------------------------------------------------


def test_invoice_paid_fulfils_the_order_once(client, invoice_order, stripe_double, post_webhook):
    paid = stripe_double.pay_invoice(invoice_order.stripe_invoice_id)
    responses = [post_webhook("invoice.paid", paid, event_id="evt_invoice_paid") for _ in range(3)]
    responses.append(post_webhook("invoice.paid", paid))  # the same payment, a distinct event
    assert [r.content for r in responses] == [b"order paid", b"duplicate", b"duplicate", b"order paid"]
    invoice_order.refresh_from_db()
    assert (invoice_order.status, invoice_order.invoice_status) == (Order.Status.PAID, Order.InvoiceStatus.PAID)
    assert StripeEvent.objects.filter(event_id="evt_invoice_paid").count() == 1
    confirmations = [m for m in mail.outbox if m.subject.startswith("You're registered")]
    assert len(confirmations) == 1 and confirmations[0].to == ["maya@lincoln.example"]


def test_invoice_paid_finds_the_order_by_invoice_id_without_metadata(invoice_order, stripe_double, post_webhook):
    paid = dict(stripe_double.pay_invoice(invoice_order.stripe_invoice_id), metadata={})
    assert post_webhook("invoice.paid", paid).content == b"order paid"


@pytest.mark.parametrize("event_type, action, status", [
    ("invoice.voided", "void_invoice", "void"),
    ("invoice.marked_uncollectible", "mark_invoice_uncollectible", "uncollectible"),
])
def test_voided_or_written_off_invoice_closes_the_order_and_frees_seats(client, stripe_double, post_webhook, event_type, action, status):
    workshop = WorkshopFactory(capacity=2, invoice_hold_percent=100)
    register_invoice(client, workshop, seat_count=2)
    order = Order.objects.get()
    assert "sold out" in client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    invoice = getattr(stripe_double, action)(order.stripe_invoice_id)
    assert post_webhook(event_type, invoice).content == b"cancelled"
    assert post_webhook(event_type, invoice).content == b"ignored"
    order.refresh_from_db()
    assert (order.status, order.invoice_status) == (Order.Status.CANCELLED, status)
    assert "2 seats left" in client.get(workshop.get_absolute_url()).content.decode()


def test_voiding_some_other_invoice_leaves_the_order_alone(invoice_order, stripe_double, post_webhook):
    other = {"id": "in_other", "object": "invoice", "status": "void", "metadata": {"order_reference": invoice_order.reference}}
    post_webhook("invoice.voided", other)
    invoice_order.refresh_from_db()
    assert invoice_order.status == Order.Status.PENDING


def test_invoice_events_for_unknown_orders_are_acknowledged(stripe_double, post_webhook):
    response = post_webhook("invoice.paid", {"id": "in_nope", "object": "invoice", "metadata": {"order_reference": "ESL-NOPE"}})
    assert (response.status_code, response.content) == (200, b"unknown order")


def test_late_payment_after_the_hold_lapsed_is_accepted_while_seats_are_free(invoice_order, stripe_double, post_webhook):
    paid = stripe_double.pay_invoice(invoice_order.stripe_invoice_id)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        post_webhook("invoice.paid", paid)
    invoice_order.refresh_from_db()
    assert invoice_order.status == Order.Status.PAID
    assert not stripe_double.requests_to("POST", "/v1/refunds")


def test_late_payment_after_the_seats_were_sold_is_refunded_to_the_invoice_payment(client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=2, invoice_hold_percent=100)
    register_invoice(client, workshop, seat_count=2)
    late = Order.objects.get()
    paid = stripe_double.pay_invoice(late.stripe_invoice_id)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        OrderFactory(workshop=workshop, seat_count=2)  # someone else took the seats after the hold lapsed
        post_webhook("invoice.paid", paid)
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED
    intent = stripe_double.invoice(late.stripe_invoice_id)["payments"]["data"][0]["payment"]["payment_intent"]
    (refund,) = [r["params"] for r in stripe_double.requests_to("POST", "/v1/refunds")]
    assert (refund["payment_intent"], refund["amount"]) == (intent, "24000")
    assert any("refunded" in m.subject for m in mail.outbox)


# --- paid by cheque: staff mark it paid out of band ----------------------------------------------


def mark_paid(staff_client, order, follow=True):
    return staff_client.post(
        "/admin/registrations/order/",
        {"action": "mark_invoice_paid_out_of_band", "_selected_action": [order.pk]},
        follow=follow,
    )


def test_staff_mark_an_invoice_paid_out_of_band(staff_client, invoice_order, stripe_double, post_webhook):
    response = mark_paid(staff_client, invoice_order)
    assert "marked paid out of band" in response.content.decode()
    (call,) = stripe_double.requests_to("POST", f"/v1/invoices/{invoice_order.stripe_invoice_id}/pay")
    assert call["params"] == {"paid_out_of_band": "true"}
    assert call["idempotency_key"] == f"invoice-paid-out-of-band-{invoice_order.reference}"
    invoice_order.refresh_from_db()
    assert invoice_order.status == Order.Status.PAID and invoice_order.invoice_paid_out_of_band
    # Stripe then sends invoice.paid: already paid, nothing more happens.
    assert post_webhook("invoice.paid", stripe_double.invoice(invoice_order.stripe_invoice_id)).content == b"order paid"
    assert len([m for m in mail.outbox if m.subject.startswith("You're registered")]) == 1


def test_marking_a_voided_invoice_paid_is_refused_and_changes_nothing(staff_client, invoice_order, stripe_double):
    stripe_double.void_invoice(invoice_order.stripe_invoice_id)
    html = mark_paid(staff_client, invoice_order).content.decode()
    assert "Stripe refused to mark the invoice paid" in html
    invoice_order.refresh_from_db()
    assert invoice_order.status == Order.Status.PENDING


def test_a_card_order_has_no_invoice_to_mark_paid(staff_client, workshop, stripe_double):
    order = OrderFactory(workshop=workshop, status=Order.Status.PENDING)
    assert f"{order.reference} has no invoice." in mark_paid(staff_client, order).content.decode()
    assert not stripe_double.requests


def test_refunding_a_cheque_payment_records_it_without_stripe(staff_client, invoice_order, stripe_double):
    mark_paid(staff_client, invoice_order)
    refund_whole_orders(staff_client, [invoice_order])
    invoice_order.refresh_from_db()
    assert invoice_order.status == Order.Status.REFUNDED
    assert not stripe_double.requests_to("POST", "/v1/refunds")
    assert "paid outside Stripe" in invoice_order.refunds.get().reason


# --- the buyer's order page and the PO number ---------------------------------------------------


def test_order_page_shows_the_invoice(client, invoice_order, workshop):
    html = client.get(f"/orders/{invoice_order.token}/").content.decode()
    due = timezone.localtime(invoice_order.invoice_due_at, workshop.tz)
    for expected in (
        f"Invoice {invoice_order.invoice_number}", "Open: awaiting payment", f"{due:%B} {due.day}, {due.year}",
        f'href="{invoice_order.stripe_invoice_url}"', "PO-2027-0042", "Dana Ruiz", "Oakland, CA 94612",
    ):
        assert expected in html
    assert "Continue to payment" not in html


def test_po_number_round_trip(client, invoice_order, stripe_double, post_webhook):
    response = client.post(f"/orders/{invoice_order.token}/po-number/", {"po_number": "  PO-9001 "}, follow=True)
    assert "Purchase-order number saved." in response.content.decode()
    invoice_order.refresh_from_db()
    assert invoice_order.po_number == "PO-9001"
    post_webhook("invoice.paid", stripe_double.pay_invoice(invoice_order.stripe_invoice_id))
    html = client.get(f"/orders/{invoice_order.token}/").content.decode()
    assert "Receipt" in html and 'data-receipt-po>PO-9001<' in html
    client.post(f"/orders/{invoice_order.token}/po-number/", {"po_number": ""})
    invoice_order.refresh_from_db()
    assert invoice_order.po_number == ""


def test_a_card_order_can_add_a_po_number_later(client, workshop):
    order = OrderFactory(workshop=workshop)
    client.post(f"/orders/{order.token}/po-number/", {"po_number": "PO-77"})
    assert 'data-receipt-po>PO-77<' in client.get(f"/orders/{order.token}/").content.decode()


def test_too_long_po_number_is_refused_beside_the_field(client, invoice_order):
    response = client.post(f"/orders/{invoice_order.token}/po-number/", {"po_number": "X" * 101})
    assert response.status_code == 400
    assert "Ensure this value has at most 100 characters" in response.content.decode()
    invoice_order.refresh_from_db()
    assert invoice_order.po_number == "PO-2027-0042"


def test_po_number_of_a_closed_order_cannot_change(client, workshop):
    order = OrderFactory(workshop=workshop, status=Order.Status.EXPIRED)
    response = client.post(f"/orders/{order.token}/po-number/", {"po_number": "PO-1"}, follow=True)
    assert "can no longer change" in response.content.decode()
    order.refresh_from_db()
    assert order.po_number == ""


def test_po_number_needs_the_order_token_and_csrf(workshop):
    order = OrderFactory(workshop=workshop)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/orders/{order.token}/po-number/", {"po_number": "PO-1"}).status_code == 403
    assert Client().post(f"/orders/{'x' * 43}/po-number/", {"po_number": "PO-1"}).status_code == 404


# --- reminders and lapses: manage.py send_reminders ----------------------------------------------


def test_reminder_goes_out_once_three_days_before_the_hold_lapses(invoice_order, stripe_double):
    hold = invoice_order.hold_expires_at
    with time_machine.travel(hold - timedelta(days=3, minutes=1)):
        run_reminders()
    assert mail.outbox == []
    outputs = []
    for minutes in (0, 5, 10):
        with time_machine.travel(hold - timedelta(days=3) + timedelta(minutes=minutes)):
            outputs.append(run_reminders())
    reminders = [m for m in mail.outbox if m.subject.startswith("Reminder: invoice")]
    assert sorted(m.to[0] for m in reminders) == ["accounts@lincoln-usd.example", "maya@lincoln.example"]
    assert invoice_order.stripe_invoice_url in reminders[0].body and "PO-2027-0042" in reminders[0].body
    assert "Queued 1 invoice reminder(s)" in outputs[0]
    assert "invoice" not in outputs[1] + outputs[2]


def test_paid_invoices_get_no_reminder(invoice_order, stripe_double, post_webhook):
    post_webhook("invoice.paid", stripe_double.pay_invoice(invoice_order.stripe_invoice_id))
    mail.outbox.clear()
    with time_machine.travel(invoice_order.hold_expires_at - timedelta(days=1)):
        run_reminders()
    assert not [m for m in mail.outbox if "invoice" in m.subject.lower()]


def test_lapsed_invoice_is_voided_in_stripe_and_its_order_closed(client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=2, invoice_hold_percent=100)
    register_invoice(client, workshop, seat_count=2)
    order = Order.objects.get()
    mail.outbox.clear()
    with time_machine.travel(order.hold_expires_at + timedelta(seconds=1)):
        # The seats are free the moment the hold lapses, before any job runs.
        assert "2 seats left" in client.get(workshop.get_absolute_url()).content.decode()
        output = run_reminders()
        run_reminders()
    assert "closed 1 lapsed invoice order(s); voided 1 invoice(s)" in output
    order.refresh_from_db()
    assert (order.status, order.invoice_status) == (Order.Status.EXPIRED, Order.InvoiceStatus.VOID)
    assert only_invoice(stripe_double)["status"] == "void"
    assert len(stripe_double.requests_to("POST", f"/v1/invoices/{order.stripe_invoice_id}/void")) == 1
    lapsed = [m for m in mail.outbox if "was not paid" in m.subject]
    assert len(lapsed) == 2 and "Please do not pay it." in lapsed[0].body
    # Stripe's invoice.voided event then changes nothing.
    assert post_webhook("invoice.voided", stripe_double.invoice(order.stripe_invoice_id)).content == b"ignored"


def test_voiding_is_retried_on_the_next_run_when_stripe_is_down(invoice_order, stripe_double):
    with time_machine.travel(invoice_order.hold_expires_at + timedelta(minutes=1)):
        stripe_double.fail_next(status=500, path_prefix="/v1/invoices/")
        run_reminders()
        invoice_order.refresh_from_db()
        assert (invoice_order.status, invoice_order.invoice_status) == (Order.Status.EXPIRED, Order.InvoiceStatus.OPEN)
        run_reminders()
    invoice_order.refresh_from_db()
    assert invoice_order.invoice_status == Order.InvoiceStatus.VOID


def test_an_invoice_paid_just_before_voiding_keeps_its_payment(invoice_order, stripe_double, post_webhook):
    paid = stripe_double.pay_invoice(invoice_order.stripe_invoice_id)  # paid; its webhook is still on its way
    with time_machine.travel(invoice_order.hold_expires_at + timedelta(minutes=1)):
        run_reminders()
        post_webhook("invoice.paid", paid)
    invoice_order.refresh_from_db()
    assert (invoice_order.status, invoice_order.invoice_status) == (Order.Status.PAID, Order.InvoiceStatus.PAID)


# --- without a Stripe key: a local test invoice ---------------------------------------------------


def test_without_stripe_key_a_test_invoice_is_paid_through_a_signed_webhook(client, workshop, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = register_invoice(client, workshop, seat_count=5)
    order = Order.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "Test invoice" in page and f"/orders/{order.token}/test-invoice/" in page
    invoice_page = client.get(f"/orders/{order.token}/test-invoice/").content.decode()
    assert "stands in for Stripe" in invoice_page and "Pay this test invoice ($500.00)" in invoice_page
    assert "PO-2027-0042" in invoice_page
    client.post(f"/orders/{order.token}/test-invoice/")
    order.refresh_from_db()
    assert (order.status, order.invoice_status, order.is_test_payment) == (Order.Status.PAID, "paid", True)
    event = StripeEvent.objects.get()
    assert (event.type, event.outcome) == ("invoice.paid", "order paid")


def test_test_invoice_page_is_off_for_real_invoices(client, invoice_order):
    assert client.get(f"/orders/{invoice_order.token}/test-invoice/").status_code == 404


# --- admin ------------------------------------------------------------------------------------


def test_admin_filters_orders_by_payment_method_and_invoice_status(staff_client, invoice_order, workshop):
    card = OrderFactory(workshop=workshop)
    html = staff_client.get("/admin/registrations/order/?payment_method__exact=invoice&invoice_status__exact=open").content.decode()
    assert invoice_order.reference in html and card.reference not in html
    html = staff_client.get("/admin/registrations/order/?payment_method__exact=card").content.decode()
    assert card.reference in html and invoice_order.reference not in html
    assert invoice_order.reference in staff_client.get(f"/admin/registrations/order/?q={invoice_order.invoice_number}").content.decode()


def test_admin_shows_invoice_fields_read_only(staff_client, invoice_order):
    html = staff_client.get(f"/admin/registrations/order/{invoice_order.pk}/change/").content.decode()
    assert invoice_order.stripe_invoice_id in html and invoice_order.stripe_invoice_url in html
    for field in ("stripe_invoice_id", "invoice_status", "invoice_number", "payment_method", "billing_email"):
        assert f'name="{field}"' not in html
    assert 'name="po_number"' in html


@pytest.mark.postgres
def test_overlapping_runs_remind_once_and_void_once(client, workshop, stripe_double):
    for n in range(4):
        # Four districts: one unpaid invoice request per billing address.
        register_invoice(
            client, workshop, seat_count=1, buyer_email=f"lead{n}@race.example",
            billing_email=f"accounts{n}@race.example", billing_line1=f"{n} Main Street",
        )
    mail.outbox.clear()
    hold = Order.objects.order_by("hold_expires_at").last().hold_expires_at
    errors = []

    def race(moment) -> None:
        start = threading.Barrier(6)

        def run_once():
            try:
                start.wait()
                run_reminders()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        with time_machine.travel(moment):
            threads = [threading.Thread(target=run_once) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    race(hold - timedelta(days=2))
    race(hold + timedelta(minutes=1))
    assert errors == []
    subjects = [(m.to[0], m.subject) for m in mail.outbox]  # subjects name the invoice
    assert len(subjects) == len(set(subjects)) == 4 * 2 * 2  # 4 orders × (billing, buyer) × (reminder, lapsed)
    assert set(Order.objects.values_list("status", "invoice_status")) == {(Order.Status.EXPIRED, Order.InvoiceStatus.VOID)}
    assert {i["status"] for i in stripe_double.invoices.values()} == {"void"}


# --- hostile input: signed but malformed invoice events -------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=12,
)


class InvoiceWebhookProperties(HypothesisTestCase):
    @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        event_type=st.sampled_from(["invoice.paid", "invoice.voided", "invoice.marked_uncollectible", "invoice.created"]),
        obj=st.fixed_dictionaries({}, optional={"id": json_values, "status": json_values, "payments": json_values,
                                                "number": json_values, "metadata": json_values}),
        use_reference=st.booleans(),
    )
    def test_signed_but_malformed_invoice_events_never_error(self, event_type, obj, use_reference):
        order = OrderFactory(status=Order.Status.PENDING, paid_at=None, payment_method=Order.PaymentMethod.INVOICE,
                             stripe_payment_intent_id="", stripe_invoice_id="in_props")
        if use_reference:
            obj = {**obj, "metadata": {"order_reference": order.reference}}
        payload = json.dumps({"id": f"evt_{time.time_ns()}", "type": event_type, "created": int(time.time()),
                               "data": {"object": obj}})
        with override_settings(STRIPE_SECRET_KEY="sk_test_props", STRIPE_WEBHOOK_SECRET="whsec_props"):
            header = stripe.WebhookSignature.generate_signature_header(payload, "whsec_props")
            response = self.client.post("/stripe/webhook/", payload, content_type="application/json",
                                        HTTP_STRIPE_SIGNATURE=header)
        self.assertIn(response.status_code, (200, 400))
        order.refresh_from_db()
        self.assertIn(order.status, (Order.Status.PENDING, Order.Status.PAID, Order.Status.CANCELLED))


def test_orders_csv_carries_the_invoice_and_po_number(staff_client, invoice_order):
    response = staff_client.post(
        "/admin/registrations/order/", {"action": "export_csv", "_selected_action": [invoice_order.pk]}
    )
    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    row = dict(zip(header, row, strict=True))
    assert (row["Payment method"], row["Invoice"], row["Invoice status"], row["PO number"]) == (
        "Invoice", invoice_order.invoice_number, "Open: awaiting payment", "PO-2027-0042"
    )
