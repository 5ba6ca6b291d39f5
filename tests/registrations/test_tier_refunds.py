"""Seat refunds price the seats an order keeps again, at the prices it was placed under: what comes back is what the
order kept less what the seats kept cost bought as one order ($120 a seat below 5, $100 from 5). Staff see why before
they confirm, the buyer reads why, and a refund that comes to nothing cancels the seats without asking Stripe."""

import pytest
from django.core import mail

from registrations.models import Order, Refund, Seat, Voucher
from registrations.selectors.ledger import order_money
from tests.registrations.helpers import INVOICE_BILLING, registration_data
from workshops.models import PriceTier

pytestmark = pytest.mark.django_db(transaction=True)

SEATS = "/admin/registrations/seat/"


def paid(client, workshop, stripe_double, post_webhook, seat_count: int, **extra) -> Order:
    client.post(
        f"/workshops/{workshop.slug}/register/",
        registration_data(seat_count=seat_count, attendees=[("Ana Diaz", "ana@lincoln.example")], **extra),
    )
    order = Order.objects.get(kind=Order.Kind.PURCHASE)
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    mail.outbox.clear()
    return order


def refund_seats(staff_client, seats, *, confirm: bool = True):
    data = {"action": "refund_selected_seats", "_selected_action": [s.pk for s in seats]}
    if confirm:
        data["post"] = "yes"
    return staff_client.post(SEATS, data, follow=True)


def last_seats(order, n: int) -> list[Seat]:
    return list(order.seats.filter(status=Seat.Status.ACTIVE).order_by("-position")[:n])


def stripe_refunds(stripe_double) -> list[str]:
    return [r["params"]["amount"] for r in stripe_double.requests_to("POST", "/v1/refunds")]


def test_the_confirmation_page_shows_what_is_withheld_for_the_seats_kept(
    client, staff_client, workshop, stripe_double, post_webhook
):
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5)  # 5 x $100
    html = refund_seats(staff_client, last_seats(order, 4), confirm=False).content.decode()
    assert f"{order.reference}: Lincoln Middle School – refund $380.00" in html
    assert "1 seat kept costs $120.00 at the single-seat price ($120.00 each); $380.00 is refunded" in html
    assert "Withheld for the seats kept: $20.00." in html
    assert stripe_refunds(stripe_double) == [] and not Refund.objects.exists()  # nothing happens before staff confirm


def test_a_refund_records_what_it_withheld_and_the_refund_list_shows_it(
    client, staff_client, workshop, stripe_double, post_webhook
):
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5)
    refund_seats(staff_client, last_seats(order, 4))
    refund = Refund.objects.get(order=order)
    assert (refund.amount_cents, refund.withheld_cents) == (38000, 2000)
    assert stripe_refunds(stripe_double) == ["38000"]
    page = staff_client.get("/admin/registrations/refund/").content.decode()
    assert "$20.00: 1 seat kept costs $120.00 at the single-seat price" in page


def test_the_buyers_refund_email_says_why_the_amount_is_less_than_the_team_price(
    client, staff_client, workshop, stripe_double, post_webhook
):
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=4)
    client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": "1"})
    addition = Order.objects.get(parent=order)
    post_webhook("checkout.session.completed", stripe_double.pay(addition.stripe_checkout_session_id))
    mail.outbox.clear()
    refund_seats(staff_client, last_seats(order, 1))
    [email] = [m for m in mail.outbox if m.to == ["maya@lincoln.example"]]
    assert email.subject.startswith("Refund of $20.00:")
    assert "Why this amount: 4 seats kept cost $480.00 at the single-seat price ($120.00 each); $20.00 is refunded" in email.body


def test_a_refund_that_comes_to_nothing_cancels_the_seats_without_asking_stripe(
    client, staff_client, workshop, stripe_double, post_webhook
):
    Voucher.objects.create(code="SAVE30", kind="fixed", amount_off_cents=3000, applies_to="seat")
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5, voucher_code="SAVE30")
    assert order.total_cents == 35000  # 5 x ($100 - $30)
    response = refund_seats(staff_client, [order.seats.get(position=2)])  # Ana's seat
    # The 4 seats kept cost 4 x ($120 - $30) = $360, more than the $350 paid: nothing comes back.
    assert stripe_refunds(stripe_double) == []
    order.refresh_from_db()
    assert (order.status, order.refunded_seat_count, order_money(order=order).net_cents) == (Order.Status.PAID, 1, 35000)
    assert order.seats.get(position=2).status == Seat.Status.REFUNDED
    refund = Refund.objects.get(order=order)
    assert (refund.amount_cents, refund.made_at is not None) == (0, True)
    assert "cancelled Ana Diaz with no money back (nothing was sent to Stripe)" in response.content.decode()


def test_a_cancellation_with_nothing_back_tells_buyer_and_attendee_why_and_never_says_refunded_nothing(
    client, staff_client, workshop, stripe_double, post_webhook
):
    Voucher.objects.create(code="SAVE30", kind="fixed", amount_off_cents=3000, applies_to="seat")
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5, voucher_code="SAVE30")
    refund_seats(staff_client, [order.seats.get(position=2)])
    assert not [m for m in mail.outbox if "$0.00" in m.subject or "refunded $0.00" in m.body]
    [buyer] = [m for m in mail.outbox if m.to == ["maya@lincoln.example"]]
    assert buyer.subject.startswith("Seats cancelled, no refund:")
    assert "We have cancelled 1 seat of your order" in buyer.body
    assert "4 seats kept cost $360.00 at the single-seat price ($120.00 each) less the code's $120.00" in buyer.body
    [attendee] = [m for m in mail.outbox if m.to == ["ana@lincoln.example"]]
    assert "has been cancelled at their request. No money came back for it" in attendee.body
    assert "refunded to them" not in attendee.body


def test_a_tier_edited_after_purchase_does_not_change_the_refund(client, staff_client, workshop, stripe_double, post_webhook):
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5)
    single = PriceTier.objects.get(workshop=workshop, min_seats=1)
    single.unit_price_cents = 15000  # staff raise the single-seat price after the team bought
    single.save()
    refund_seats(staff_client, last_seats(order, 4))
    assert stripe_refunds(stripe_double) == ["38000"]  # the seat kept costs $120, the price when the team bought


def test_an_order_placed_before_prices_were_kept_on_it_is_priced_with_todays_tiers(
    client, staff_client, workshop, stripe_double, post_webhook
):
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5)
    Order.objects.filter(pk=order.pk).update(price_tiers=None, voucher_terms=None)  # as migration 0030 left older orders
    PriceTier.objects.filter(workshop=workshop, min_seats=1).update(unit_price_cents=15000)
    refund_seats(staff_client, last_seats(order, 4))
    assert stripe_refunds(stripe_double) == ["35000"]  # $500 less the seat kept at today's $150


def test_an_invoice_paid_by_cheque_follows_the_same_price_rule(client, staff_client, workshop, stripe_double, post_webhook):
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=5, **INVOICE_BILLING))
    order = Order.objects.get()
    staff_client.post("/admin/registrations/order/", {"action": "mark_invoice_paid_out_of_band", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.invoice_paid_out_of_band
    refund_seats(staff_client, last_seats(order, 2))
    assert stripe_refunds(stripe_double) == []  # paid outside Stripe: returned the same way, by staff
    assert order_money(order=order).net_cents == 36000  # the 3 seats kept cost $360 at the single-seat price
    assert Refund.objects.get(order=order).withheld_cents == 6000


def test_the_order_page_in_admin_shows_the_prices_kept_at_purchase(client, staff_client, workshop, stripe_double, post_webhook):
    order = paid(client, workshop, stripe_double, post_webhook, seat_count=5)
    PriceTier.objects.filter(workshop=workshop, min_seats=1).update(unit_price_cents=15000)
    page = staff_client.get(f"/admin/registrations/order/{order.pk}/change/").content.decode()
    assert "1+ seats: $120.00 each · 5+ seats: $100.00 each" in page
