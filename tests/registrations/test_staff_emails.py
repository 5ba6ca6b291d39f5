"""Emails people expect when staff or a team lead change something: a refund, a seat handed over, an order cancelled."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from registrations.models import Order, Refund
from registrations.services.invoices import tidy_invoices
from tests.factories import OrderFactory
from tests.registrations.helpers import refund_whole_orders
from tests.registrations.test_after_purchase import change

pytestmark = pytest.mark.django_db

ROSTER = "/admin/registrations/rosterseat/"
ORDERS = "/admin/registrations/order/"


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """`with deliver():` runs the outbox's delivery as the worker would, once the block's work commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def big_team(workshop):
    return OrderFactory(
        workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5, buyer_name="Maya Johnson",
        buyer_email="maya@lincoln.example", seats=["Ana Diaz", "Ben Okafor", "Chen Wei", "Dev Patel", "Eve Adams"],
    )


def act(client, url, action, objects, **extra):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **extra}, follow=True)


def to(outbox, address):
    return [m for m in outbox if m.to == [address]]


# --- refunds -------------------------------------------------------------------------------------------


def test_refunding_seats_emails_the_buyer_the_amount_the_seats_and_when_it_arrives(
    staff_client, big_team, stripe_double, deliver
):
    with deliver():
        act(staff_client, ROSTER, "refund_selected_seats", big_team.seats.filter(position__in=[2, 4]), post="yes")
    [email] = to(mail.outbox, "maya@lincoln.example")
    # 5 seats at $100, 2 refunded: the 3 kept cost $360 at the single-seat price, so $140 of the $500 comes back.
    assert email.subject == f"Refund of $140.00: {big_team.workshop.title} ({big_team.reference})"
    assert "We have refunded $140.00 for your order" in email.body
    assert "Seats refunded: 2; 3 seats remain booked." in email.body
    assert "within 5–10 business days" in email.body
    assert "You paid $500.00 for this order; refunded so far: $140.00; net: $360.00." in email.body


def test_refunding_a_whole_order_emails_the_buyer_once(staff_client, big_team, stripe_double, deliver):
    with deliver():
        response = refund_whole_orders(staff_client, [big_team])
        act(staff_client, ORDERS, "refund_whole_order", [big_team], post="yes")  # already refunded: refused, nothing sent
    assert "the buyer has been emailed" in response.content.decode()
    [email] = to(mail.outbox, "maya@lincoln.example")
    assert "the order is now fully refunded and no seats remain" in email.body
    assert "$500.00" in email.body


def test_a_refund_stripe_refuses_sends_no_email(staff_client, big_team, stripe_double, deliver):
    stripe_double.fail_next(status=402, path_prefix="/v1/refunds", method="POST")
    with deliver():
        act(staff_client, ROSTER, "refund_selected_seats", [big_team.seats.get(position=1)], post="yes")
    assert not Refund.objects.exists()
    assert mail.outbox == []


def test_a_refund_made_in_stripes_dashboard_emails_the_buyer(big_team, stripe_double, post_webhook, deliver):
    event = {"id": "ch_1", "object": "charge", "payment_intent": big_team.stripe_payment_intent_id, "amount_refunded": 5000}
    with deliver():
        post_webhook("charge.refunded", event)
        post_webhook("charge.refunded", event)  # the same total again: nothing new, no second email
    [email] = to(mail.outbox, "maya@lincoln.example")
    assert "We have refunded $50.00" in email.body
    assert "Your seats are not affected." in email.body


def test_a_test_payment_refund_says_no_money_moves(staff_client, workshop, stripe_double, deliver):
    order = OrderFactory(workshop=workshop, buyer_email="lee@school.example", is_test_payment=True, seats=["Lee Park"],
                         stripe_payment_intent_id="pi_local_123")
    with deliver():
        refund_whole_orders(staff_client, [order])
    [email] = to(mail.outbox, "lee@school.example")
    assert "test payment, so no money moves" in email.body
    assert "business days" not in email.body


# --- a seat given to someone else ----------------------------------------------------------------------


def test_giving_a_seat_to_a_colleague_emails_both_people(client, big_team, deliver):
    old_token = big_team.seats.get(position=1).token
    with deliver():
        change(client, big_team, 1, "Dana Reyes", "dana@lincoln.example", kind="new_person")
    [told] = to(mail.outbox, "ana@school.example")
    [welcomed] = to(mail.outbox, "dana@lincoln.example")
    assert told.subject == f"Your seat at {big_team.workshop.title} has been given to someone else"
    assert "Hello Ana Diaz" in told.body and "Maya Johnson (Lincoln Unified School District)" in told.body
    assert "no longer work" in told.body
    # The previous attendee learns nothing about who has the seat now, and gets no link.
    assert "Dana" not in told.body and "dana@" not in told.body and "/seats/" not in told.body
    assert old_token not in welcomed.body and "/seats/" in welcomed.body


def test_correcting_an_attendees_email_is_not_a_hand_over(client, big_team, deliver):
    with deliver():
        change(client, big_team, 1, "Ana Diaz", "ana.diaz@lincoln.example", kind="correct")
    # The old address is told its link moved (not that the seat was given away); the new one is welcomed.
    [told] = to(mail.outbox, "ana@school.example")
    assert "given" not in told.subject and "has changed the email address for your seat" in told.body
    assert len(to(mail.outbox, "ana.diaz@lincoln.example")) == 1  # the welcome with the new link


# --- cancelled orders ----------------------------------------------------------------------------------


def test_cancelling_at_checkout_emails_the_buyer_once(client, workshop, deliver):
    order = OrderFactory(workshop=workshop, status=Order.Status.PENDING, paid_at=None, buyer_email="kim@school.example",
                         seat_count=2)
    with deliver():
        client.get(f"/orders/{order.token}/cancel/")
        client.get(f"/orders/{order.token}/cancel/")
    [email] = to(mail.outbox, "kim@school.example")
    assert email.subject == f"Cancelled: {workshop.title} ({order.reference})"
    assert "(2 seats) has been cancelled and its seats released" in email.body
    assert "Nothing was charged." in email.body
    assert f"/workshops/{workshop.slug}/register/?from={order.token}" in email.body


def test_a_voided_invoice_tells_the_buyer_the_order_is_cancelled(workshop, stripe_double, post_webhook, deliver):
    order = OrderFactory(
        workshop=workshop, status=Order.Status.PENDING, paid_at=None, payment_method=Order.PaymentMethod.INVOICE,
        stripe_invoice_id="in_void_me", invoice_number="ESL-0042", invoice_status=Order.InvoiceStatus.OPEN,
        buyer_email="kim@school.example", stripe_payment_intent_id="",
    )
    with deliver():
        post_webhook("invoice.voided", {"id": "in_void_me", "object": "invoice", "status": "void",
                                        "metadata": {"order_reference": order.reference}})
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    [email] = to(mail.outbox, "kim@school.example")
    assert "Invoice ESL-0042 is cancelled too: please do not pay it." in email.body


def test_a_lapsed_invoice_gets_its_own_email_not_a_second_one(workshop, stripe_double, deliver):
    order = OrderFactory(
        workshop=workshop, status=Order.Status.PENDING, paid_at=None, payment_method=Order.PaymentMethod.INVOICE,
        stripe_invoice_id="in_lapse", invoice_number="ESL-0043", invoice_status=Order.InvoiceStatus.OPEN,
        buyer_email="kim@school.example", billing_email="kim@school.example",
        hold_expires_at=timezone.now() - timedelta(minutes=1),
    )
    with deliver():
        tidy_invoices()
    subjects = [m.subject for m in to(mail.outbox, "kim@school.example")]
    assert subjects == [f"Invoice ESL-0043 for {order.workshop.title} was not paid: seats released"]
