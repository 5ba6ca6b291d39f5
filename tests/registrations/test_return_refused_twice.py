"""Two staff members press "Yes" to return the same refused payment (an order paid after its seats were gone): the
money goes back once, and the one whose press found it done reads that it had already been returned and that
nothing was sent again, not a second "returned 1 payment"."""

import threading
import time

import pytest
from django.core import mail

from registrations.models import Order, Payment
from tests.factories import OrderFactory
from tests.registrations.helpers import choose_whole_order_refund, press_yes
from tests.registrations.test_refund_races import staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def late(stripe_double):
    """$120 paid after the order's seats were gone: the payment was refused and is owed back."""
    order = OrderFactory(status=Order.Status.NEEDS_REFUND, payment=False, seats=[], stripe_payment_intent_id="pi_late",
                         buyer_email="maya@lincoln.example")
    Payment.objects.create(order=order, amount_cents=12000, currency="usd", source=Payment.Source.CHECKOUT,
                           status=Payment.Status.REFUSED, stripe_payment_intent_id="pi_late", received_at=order.paid_at)
    return order


def refunds_made(stripe_double) -> list[int]:
    return [r["amount"] for r in stripe_double.refunds.values() if r["payment_intent"] == "pi_late"]


def buyer_emails() -> list[str]:
    return [m.subject for m in mail.outbox if m.to == ["maya@lincoln.example"]]


def already(order: Order) -> str:
    return (f"{order.reference}: its refused payment had already been returned (by someone else, or an earlier "
            "request); nothing was sent to Stripe again.")


def test_a_second_yes_after_the_first_reads_that_the_payment_was_already_returned(late, stripe_double):
    a, b = staff("finance_a"), staff("finance_b")
    page_a, page_b = choose_whole_order_refund(a, [late]), choose_whole_order_refund(b, [late])  # both read "return it"
    first = press_yes(a, page_a).content.decode()
    second = press_yes(b, page_b).content.decode()
    assert f"{late.reference}: returned 1 payment." in first
    assert already(late) in second
    assert "returned 1 payment" not in second and "Check and confirm again" not in second
    assert "1 order chosen: nothing was refunded; 1 already returned (nothing sent again)." in second
    assert refunds_made(stripe_double) == [12000]
    assert len(buyer_emails()) == 1
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED


@pytest.mark.postgres
def test_two_yeses_at_once_return_the_payment_once_and_only_one_reads_returned(late, stripe_double):
    """A's request is made at Stripe and its answer held; B's, sent meanwhile with the same idempotency key, gets
    Stripe's replay of it: B's press sent nothing new."""
    a, b = staff("finance_a"), staff("finance_b")
    page_a, page_b = choose_whole_order_refund(a, [late]), choose_whole_order_refund(b, [late])
    stripe_double.hang(method="POST", after_doing=True)
    answers = {}

    def press_a():
        try:
            answers["a"] = press_yes(a, page_a).content.decode()
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=press_a)
    thread.start()
    deadline = time.monotonic() + 10
    while not refunds_made(stripe_double) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert refunds_made(stripe_double) == [12000]  # A's return is made at Stripe, its answer held
    second = press_yes(b, page_b).content.decode()
    stripe_double.end_hang()
    thread.join(timeout=30)
    first = answers["a"]
    assert f"{late.reference}: returned 1 payment." in first
    assert already(late) in second and "returned 1 payment" not in second
    assert refunds_made(stripe_double) == [12000]
    keys = {r["idempotency_key"] for r in stripe_double.requests_to("POST", "/v1/refunds")}
    assert len(keys) == 1  # B's request was the same request, replayed by Stripe
    assert len(buyer_emails()) == 1


def test_a_press_after_an_earlier_press_lost_stripes_answer_reads_already_returned(late, stripe_double):
    """The first press was made at Stripe and its answer lost; the next press sends the same request, Stripe replays
    it, and the ledger counts the return once: that press sent nothing new."""
    a, b = staff("finance_a"), staff("finance_b")
    page_a, page_b = choose_whole_order_refund(a, [late]), choose_whole_order_refund(b, [late])
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)
    press_yes(a, page_a)
    assert refunds_made(stripe_double) == [12000]
    second = press_yes(b, page_b).content.decode()
    assert already(late) in second and "returned 1 payment" not in second
    assert refunds_made(stripe_double) == [12000]
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED
    assert len(buyer_emails()) == 1


def test_a_press_whose_answer_stripe_lost_does_not_read_that_nothing_changed(late, stripe_double):
    """Stripe made the return but its answer never came: staff are told it may have gone back and how to find out,
    not that Stripe refused and nothing changed."""
    a = staff("finance_a")
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=True)
    page = press_yes(a, choose_whole_order_refund(a, [late])).content.decode()
    assert refunds_made(stripe_double) == [12000]
    assert "Nothing changed" not in page and "nothing was refunded" not in page
    assert f"{late.reference}: Stripe did not answer" in page and "may have been returned" in page
    assert "no answer from Stripe (refund again to find out)" in page
