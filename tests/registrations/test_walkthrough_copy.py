"""Copy found wrong in a walk-through of the site as a teacher, a team lead and a coordinator."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from registrations.emails import send_invoice_issued, send_order_confirmation
from registrations.models import Order, Seat
from tests.factories import OrderFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db


def _confirmation_text(workshop, capture, **order_fields) -> str:
    order = OrderFactory(workshop=workshop, **order_fields)
    with capture(execute=True):
        send_order_confirmation(order=order)
    return mail.outbox[-1].body


def test_a_team_lead_who_does_not_attend_is_not_told_to_do_the_pre_work(workshop, django_capture_on_commit_callbacks):
    text = _confirmation_text(workshop, django_capture_on_commit_callbacks, seat_count=6, buyer_attends=False,
                              unit_price_cents=10000, tier_min_seats=5)
    assert "please complete about" not in text
    assert "each attendee completes about 2 hours of pre-work on their own attendee page" in text


def test_a_buyer_who_attends_is_asked_to_do_the_pre_work(workshop, django_capture_on_commit_callbacks):
    text = _confirmation_text(workshop, django_capture_on_commit_callbacks, seat_count=1, buyer_attends=True)
    assert "Before the first session, please complete about 2 hours of pre-work." in text


def test_the_workshop_dashboard_counts_unpaid_invoices_as_held_and_says_so(staff_client, workshop):
    response = staff_client.get("/admin/registrations/workshopdashboard/")
    assert response.status_code == 200
    assert "Held: seats in a checkout or unpaid invoice that has not lapsed" in response.content.decode()


def test_the_receipt_says_how_many_of_its_seats_were_refunded(client, workshop):
    order = OrderFactory(workshop=workshop, seat_count=8, unit_price_cents=10000, tier_min_seats=5,
                         refunded_seat_count=1, refunded=10000)
    Seat.objects.filter(order=order, position=3).update(status=Seat.Status.REFUNDED)
    html = client.get(order.get_absolute_url()).content.decode()
    assert '<dt class="col-sm-4">Seats</dt><dd class="col-sm-8">8 (1 refunded)</dd>' in html


def test_the_invoice_email_tells_the_billing_contact_whose_seats_are_held(workshop, django_capture_on_commit_callbacks):
    order = OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5, status=Order.Status.PENDING,
                         organisation="Hill County Schools", buyer_email="ivy@hill.example",
                         payment_method=Order.PaymentMethod.INVOICE, invoice_number="TEST-1", billing_name="Accounts Payable",
                         billing_email="ap@hill.example", stripe_invoice_url="https://invoice.example/1",
                         invoice_due_at=timezone.now() + timedelta(days=14),
                         hold_expires_at=timezone.now() + timedelta(days=14))
    with django_capture_on_commit_callbacks(execute=True):
        send_invoice_issued(order_id=order.pk)
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "The seats are held for Hill County Schools until" in bodies["ap@hill.example"]
    assert "The seats are held for you until" in bodies["ivy@hill.example"]


def test_adding_a_seat_at_the_standard_price_does_not_speak_of_a_team_price(client, workshop, settings):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=1))
    order = Order.objects.get()
    client.post(f"/orders/{order.token}/test-payment/")
    response = client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": "1", "grow-payment_method": "card"})
    addition = Order.objects.get(parent=order)
    assert response["Location"].startswith(f"/orders/{addition.token}/test-payment/")
    page = client.get(f"/orders/{addition.token}/test-payment/").content.decode()
    assert "team price" not in page
    assert "1 added to order " + order.reference + " (the difference between the order's old and new total)" in page


def test_the_links_email_counts_refunded_seats_as_the_order_page_does(client, workshop, django_capture_on_commit_callbacks):
    order = OrderFactory(workshop=workshop, buyer_email="lena@riverside.example", seat_count=8, unit_price_cents=10000,
                         tier_min_seats=5, refunded_seat_count=1, refunded=10000)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/links/", {"email": "lena@riverside.example"}, REMOTE_ADDR="203.0.113.9")
    assert f"{order.reference}, {workshop.title}, 8 seats (1 refunded), paid:" in mail.outbox[-1].body


def test_with_no_attendee_rows_the_form_does_not_ask_to_leave_a_row_blank(client, workshop):
    html = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert '<p id="attendees-help" class="form-text" hidden>' in html
    data = registration_data(seat_count=3, buyer_attends=False)
    html = client.post(f"/workshops/{workshop.slug}/register/", {**data, "update": "1"}).content.decode()
    assert '<p id="attendees-help" class="form-text">Name each attendee now' in html
