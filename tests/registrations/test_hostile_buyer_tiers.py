"""A hostile buyer at the team-price boundary: reach 5 seats (or buy 5) for the $100 tier, then have staff refund
seats, and keep fewer than 5 seats at $100 each. The rule: the seats kept have cost at least what that many seats
cost bought as one order, at the prices the order was placed under ("$120 per participant" below 5)."""

import pytest
from django.core import mail

from registrations.models import Order, Seat
from registrations.selectors.ledger import order_money
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)

SEATS = "/admin/registrations/seat/"


def paid(client, workshop, stripe_double, post_webhook, seat_count: int) -> Order:
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=seat_count))
    order = Order.objects.get(kind=Order.Kind.PURCHASE)
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    mail.outbox.clear()
    return order


def refund_seats(staff_client, seats) -> None:
    response = staff_client.post(
        SEATS, {"action": "refund_selected_seats", "_selected_action": [s.pk for s in seats], "post": "yes"}
    )
    assert response.status_code in (200, 302)


def active_seats(order) -> list[Seat]:
    return list(order.seats.filter(status=Seat.Status.ACTIVE).order_by("position"))


def test_a_team_refunded_down_to_one_seat_pays_the_single_seat_price(
    client, staff_client, workshop, stripe_double, post_webhook
):
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5)
    assert order.total_cents == 50000
    refund_seats(staff_client, active_seats(order)[1:])
    order.refresh_from_db()
    assert len(active_seats(order)) == 1
    # Rule: fewer than 5 seats cost $120 each, so one seat kept has cost at least $120.
    assert order_money(order=order).net_cents >= 12000 * len(active_seats(order)), order_money(order=order).net_cents


def test_growing_into_the_tier_then_refunding_a_seat_does_not_keep_the_tier(
    client, staff_client, workshop, stripe_double, post_webhook
):
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=4)
    client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": "1"})
    addition = Order.objects.get(parent=order)
    assert addition.total_cents == 2000  # 5 x $100 - 4 x $120
    post_webhook("checkout.session.completed", stripe_double.pay(addition.stripe_checkout_session_id))
    order.refresh_from_db()
    assert (order.seat_count, order.total_cents) == (5, 50000)
    refund_seats(staff_client, active_seats(order)[-1:])
    order.refresh_from_db()
    kept = len(active_seats(order))
    assert kept == 4
    # Rule: 4 seats cost 4 x $120 = $480; the $20 that bought the tier does not buy back $100.
    assert order_money(order=order).net_cents >= 12000 * kept, order_money(order=order).net_cents
