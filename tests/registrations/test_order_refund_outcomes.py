"""What staff read after "Yes" on the whole-order refund says what happened to each order, and how many of each: no
"refunded; the buyer has been emailed" when no money moved and no email went. Money paid outside Stripe (an invoice
paid by cheque or transfer) is not sent to Stripe: the refund is recorded, the order is flagged for staff to return
it by hand, and the buyer is told it comes back the way they paid."""

import pytest
from django.core import mail
from django.utils import timezone

from registrations.models import Order, Payment, Refund, Seat
from tests.factories import OrderFactory, record_refund
from tests.registrations.helpers import choose_whole_order_refund, refund_whole_orders

pytestmark = pytest.mark.django_db

ROSTER = "/admin/registrations/rosterseat/"


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """`with deliver():` runs the outbox's delivery as the worker would, once the block's work commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_an_order_with_nothing_left_to_refund_says_no_money_moved_and_the_buyer_hears_of_the_cancellation(
    staff_client, stripe_double, deliver
):
    order = OrderFactory(seat_count=2, seats=["Ana Diaz"], buyer_email="maya@lincoln.example")
    record_refund(order, 24000, kind=Refund.Kind.STRIPE)  # all of it refunded in Stripe's dashboard already
    with deliver():
        html = refund_whole_orders(staff_client, [order]).content.decode()
    assert "refunded $0.00" not in html
    assert (f"{order.reference}: 2 seats cancelled; nothing was left to refund, so no money moved. The buyer has been "
            "emailed that the seats are cancelled with no refund, and why.") in html
    assert "1 order chosen: 1 cancelled with nothing left to refund." in html
    assert stripe_double.requests_to("POST", "/v1/refunds") == []
    to_buyer = [m.subject for m in mail.outbox if m.to == ["maya@lincoln.example"]]
    assert len(to_buyer) == 1 and to_buyer[0].startswith("Seats cancelled, no refund"), to_buyer


def test_the_message_counts_each_outcome(staff_client, stripe_double):
    team = OrderFactory(seat_count=2, seats=["Ana Diaz"])
    done = OrderFactory(status=Order.Status.REFUNDED, seats=[])
    unpaid = OrderFactory(status=Order.Status.PENDING, payment=False, seats=[])
    html = refund_whole_orders(staff_client, [team, done, unpaid]).content.decode()
    assert "3 orders chosen: 1 refunded, 2 skipped (nothing to refund)." in html


def test_skipped_orders_alone_say_nothing_was_refunded(staff_client, stripe_double):
    """The page offers no "Yes" then; a "Yes" sent anyway says that nothing happened."""
    done = OrderFactory(status=Order.Status.REFUNDED, seats=[])
    page = choose_whole_order_refund(staff_client, [done])
    assert 'name="post"' not in page.content.decode()
    html = staff_client.post(
        "/admin/registrations/order/",
        {"action": "refund_whole_order", "_selected_action": [done.pk], "post": "yes", f"amount_{done.pk}": "skip",
         f"seats_{done.pk}": "0"},
        follow=True,
    ).content.decode()
    assert "1 order chosen: nothing was refunded; 1 skipped (nothing to refund)." in html
    assert "has been emailed" not in html


@pytest.fixture
def cheque_order():
    """An invoice for 2 seats ($240) that staff marked paid when the buyer's cheque arrived."""
    order = OrderFactory(
        seat_count=2, seats=["Ana Diaz"], buyer_email="maya@lincoln.example", payment=False, stripe_payment_intent_id="",
        payment_method=Order.PaymentMethod.INVOICE, stripe_invoice_id="in_cheque", invoice_number="ESL-0042",
        invoice_status=Order.InvoiceStatus.PAID, invoice_paid_out_of_band=True,
    )
    Payment.objects.create(order=order, amount_cents=24000, currency="usd", source=Payment.Source.OUT_OF_BAND,
                           stripe_invoice_id="in_cheque", received_at=timezone.now())
    return order


def test_a_cheque_paid_order_is_refunded_by_hand_not_through_stripe(staff_client, cheque_order, stripe_double, deliver):
    page = choose_whole_order_refund(staff_client, [cheque_order]).content.decode()
    assert "(not through Stripe: return it the same way)" in page
    assert 'value="Yes, refund through Stripe"' not in page
    with deliver():
        html = refund_whole_orders(staff_client, [cheque_order]).content.decode()
    assert stripe_double.requests_to("POST", "/v1/refunds") == []
    assert (f"{cheque_order.reference}: 2 seats cancelled and a refund of $240.00 recorded. $240.00 of it was paid "
            "outside Stripe (cheque or transfer), so Stripe was not asked: return it to the buyer the same way. The order "
            "is flagged for review until then; the buyer has been emailed.") in html
    assert f"{cheque_order.reference}: refunded $240.00" not in html
    cheque_order.refresh_from_db()
    assert cheque_order.status == Order.Status.REFUNDED
    assert cheque_order.payment_needs_review
    assert "$240.00 of payment in_cheque is owed back to the buyer and was paid outside Stripe" in cheque_order.payment_review_note
    [email] = [m for m in mail.outbox if m.to == ["maya@lincoln.example"]]
    assert "outside our card system (for example by cheque or bank transfer), so we will return" in email.body
    assert "goes back to the card" not in email.body


def test_refunding_one_seat_of_a_cheque_paid_order_flags_it_the_same_way(staff_client, cheque_order, stripe_double):
    seat = cheque_order.seats.get(position=1)
    answer = staff_client.post(ROSTER, {"action": "refund_selected_seats", "_selected_action": [seat.pk], "post": "yes"}, follow=True)
    assert stripe_double.requests_to("POST", "/v1/refunds") == []
    assert f"{cheque_order.reference}: 1 seat cancelled and a refund of $120.00 recorded. $120.00 of it was paid outside Stripe" in answer.content.decode()
    assert Seat.objects.get(pk=seat.pk).status == Seat.Status.REFUNDED
    cheque_order.refresh_from_db()
    assert cheque_order.payment_needs_review
    assert "$120.00 of payment in_cheque is owed back to the buyer and was paid outside Stripe" in cheque_order.payment_review_note
