"""The buyer's refund emails say whose seats were refunded or cancelled: each seat by its attendee's name, else their
email, else as an unnamed seat, beside the amount. Only the seats of that refund are named (the seats the order keeps
are not), and naming them costs one query however many seats there are."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registrations.models import Order, Refund, Seat, Voucher
from tests.factories import OrderFactory
from tests.registrations.test_refund_races import (  # noqa: F401 (no_leftover_retries: an autouse fixture)
    no_leftover_retries,
    paid_team,
    refund_seats_post,
    run_worker_at,
    staff,
)
from tests.registrations.test_tier_refunds import paid

pytestmark = pytest.mark.django_db(transaction=True)  # emails are queued on commit, as in production

BUYER = "maya@lincoln.example"


def to_buyer() -> list:
    return [m for m in mail.outbox if m.to == [BUYER]]


def team(workshop, seat_count: int = 5, **extra) -> Order:
    """A team of `seat_count` at $100, bought by Maya (who does not attend), every seat named."""
    names = ["Ana Diaz", "Seán O'Neil", "Chen Wei", "Dev Patel", "Eve Adams", "Fay Li", "Gus Ho"][:seat_count]
    return OrderFactory(
        workshop=workshop, seat_count=seat_count, unit_price_cents=10000, tier_min_seats=5, buyer_name="Maya Johnson",
        buyer_email=BUYER, seats=names, **extra,
    )


def test_a_seat_refund_email_names_each_refunded_seat_by_name_email_or_as_unnamed(staff_client, workshop, stripe_double):
    order = team(workshop)
    Seat.objects.filter(order=order, position=3).update(attendee_name="")  # only an email so far
    Seat.objects.filter(order=order, position=4).update(attendee_name="", attendee_email="")  # nobody named yet
    refund_seats_post(staff_client, order.seats.filter(position__in=[2, 3, 4]))
    [email] = to_buyer()
    assert email.subject.startswith("Refund of $260.00:")  # of $500: the 2 kept cost $240 at the single-seat price
    assert ("Seats refunded: 3; 2 seats remain booked.\n"
            "- Seán O'Neil (seat 2)\n- chen@school.example (seat 3)\n- unnamed seat (seat 4)\n") in email.body
    assert "Ana Diaz" not in email.body and "Eve Adams" not in email.body  # the seats kept are not named


def test_a_whole_order_refund_names_every_seat(staff_client, workshop, stripe_double):
    order = team(workshop, seat_count=2)
    refund_seats_post(staff_client, order.seats.all())
    [email] = to_buyer()
    assert "the order is now fully refunded and no seats remain.\n- Ana Diaz (seat 1)\n- Seán O'Neil (seat 2)\n" in email.body


def test_seats_cancelled_with_no_refund_names_the_cancelled_seat_only(
    client, staff_client, workshop, stripe_double, post_webhook
):
    Voucher.objects.create(code="SAVE30", kind="fixed", amount_off_cents=3000, applies_to="seat")
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5, voucher_code="SAVE30")
    refund_seats_post(staff_client, [order.seats.get(position=2)])  # Ana's; the 4 kept cost more than was paid
    [email] = to_buyer()
    assert email.subject.startswith("Seats cancelled, no refund:")
    assert f"We have cancelled 1 seat of your order {order.reference} ({workshop.title}):\n- Ana Diaz (seat 2)\n\n" in email.body
    assert "(seat 1)" not in email.body and "unnamed seat" not in email.body  # Maya's seat and the unnamed ones stay


def test_a_seat_refund_settled_in_stripes_dashboard_names_its_seat(client, workshop, stripe_double, post_webhook):
    """Stripe failed to answer the seat refund (nothing made), and staff then refunded the whole charge by hand: the
    charge.refunded event settles the waiting seat refund, and its email names Ana's seat, not Maya's."""
    order = paid_team(client, stripe_double, post_webhook, workshop)  # Maya (seat 1) and Ana (seat 2), $120 each
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")
    refund_seats_post(staff("finance"), [order.seats.get(position=2)])
    assert not to_buyer()  # waiting on Stripe
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(order.stripe_payment_intent_id, 24000))
    [seat_refund] = [m for m in to_buyer() if m.subject.startswith("Refund of $120.00") and "Seats refunded" in m.body]
    assert "Seats refunded: 1; the order is now fully refunded and no seats remain.\n- Ana Diaz (seat 2)\n" in seat_refund.body
    assert "(seat 1)" not in seat_refund.body
    run_worker_at(60 * 24)  # nothing is left to retry: no second email for the seat
    assert len([m for m in to_buyer() if "Ana Diaz" in m.body]) == 1


def test_a_refund_made_only_in_stripes_dashboard_names_no_seats(workshop, stripe_double, post_webhook):
    order = team(workshop)
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(order.stripe_payment_intent_id, 5000))
    [email] = to_buyer()
    assert "Your seats are not affected." in email.body and "(seat " not in email.body


def emailed_refund_queries(staff_client, workshop, seat_count: int) -> int:
    """Queries made while staff refund `seat_count` unnamed seats of a team of 7 (so no attendee is emailed)."""
    order = team(workshop, seat_count=7)
    Seat.objects.filter(order=order).update(attendee_name="", attendee_email="")
    with CaptureQueriesContext(connection) as queries:
        refund_seats_post(staff_client, order.seats.filter(position__lte=seat_count))
    assert Refund.objects.get(order=order).seat_count == seat_count
    [email] = [m for m in mail.outbox if m.to == [BUYER] and order.reference in m.subject]
    assert email.body.count("unnamed seat") == seat_count
    return len(queries)


def test_naming_the_seats_costs_the_same_queries_however_many_seats(staff_client, workshop, stripe_double):
    emailed_refund_queries(staff_client, workshop, 2)  # the first request also loads what is cached afterwards
    assert emailed_refund_queries(staff_client, workshop, 1) == emailed_refund_queries(staff_client, workshop, 4)


def test_a_whole_order_refund_made_in_stripes_dashboard_names_the_seats_it_released(
    staff_client, workshop, stripe_double, post_webhook
):
    """Two of five seats refunded by staff first (their email named them); the dashboard then refunds the rest of the
    charge: its email names the three seats it released, not the two refunded before."""
    order = team(workshop)
    refund_seats_post(staff_client, order.seats.filter(position__lte=2))
    mail.outbox.clear()
    left = order.total_cents - Refund.objects.get(order=order).amount_cents  # the rest of the $500 charge
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(order.stripe_payment_intent_id, left))
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    [email] = to_buyer()
    assert "fully refunded and its seats are released" in email.body
    assert "- Chen Wei (seat 3)" in email.body and "- Dev Patel (seat 4)" in email.body and "- Eve Adams (seat 5)" in email.body
    assert "Ana Diaz" not in email.body and "O'Neil" not in email.body
