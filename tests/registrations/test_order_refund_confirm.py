"""Refund the whole order: the first press shows what each order would give back and changes nothing; only "Yes"
(a second POST with post=yes) refunds, and it refunds what the page said."""

import pytest
from django.contrib.auth.models import Permission

from registrations.models import Order, Payment, Refund, Seat
from tests.factories import OrderFactory, record_refund
from tests.registrations.helpers import choose_whole_order_refund as choose_refund
from tests.registrations.helpers import press_yes

pytestmark = pytest.mark.django_db

ORDERS = "/admin/registrations/order/"


def refunds_asked(stripe_double) -> list[tuple[str, str]]:
    return [(r["params"]["payment_intent"], r["params"]["amount"]) for r in stripe_double.requests_to("POST", "/v1/refunds")]


@pytest.fixture
def team():
    return OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"], organisation="Lincoln Middle School",
                        buyer_name="Maya Johnson", stripe_payment_intent_id="pi_team")


def test_choosing_the_action_shows_what_would_be_refunded_and_changes_nothing(staff_client, team, stripe_double):
    page = choose_refund(staff_client, [team])
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Refund these orders?</h1>" in html
    assert f"{team.reference}: Maya Johnson, Lincoln Middle School" in html
    assert 'Refund <strong class="refund-amount">$240.00</strong> and cancel 2 seats' in html
    assert "Seat 1: Ana Diaz" in html and "Seat 2: Ben Okafor" in html
    assert "Stripe Checkout pi_team: $240.00" in html
    assert f'<input type="hidden" name="_selected_action" value="{team.pk}">' in html
    # What the page shows goes back with "Yes", which refunds only that (test_order_refund_changed.py).
    assert f'<input type="hidden" name="amount_{team.pk}" value="24000">' in html
    assert f'<input type="hidden" name="seats_{team.pk}" value="2">' in html
    assert '<input type="hidden" name="action" value="refund_whole_order">' in html
    assert '<input type="hidden" name="post" value="yes">' in html
    assert 'value="Yes, refund through Stripe"' in html and "No, take me back" in html
    assert stripe_double.requests == []
    assert not Refund.objects.exists()
    team.refresh_from_db()
    assert (team.status, team.refunded_seat_count) == (Order.Status.PAID, 0)
    assert team.seats.filter(status=Seat.Status.ACTIVE).count() == 2


def test_pressing_yes_refunds_the_order(staff_client, team, stripe_double):
    answer = press_yes(staff_client, choose_refund(staff_client, [team]))
    assert f"{team.reference}: refunded $240.00; the buyer has been emailed." in answer.content.decode()
    assert refunds_asked(stripe_double) == [("pi_team", "24000")]
    team.refresh_from_db()
    assert team.status == Order.Status.REFUNDED
    assert not team.seats.filter(status=Seat.Status.ACTIVE).exists()


def test_staff_without_the_refund_permission_get_no_confirmation(client, django_user_model, team, stripe_double):
    user = django_user_model.objects.create_user("orders-clerk", "c@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label="registrations", codename__in=["view_order", "change_order"]
    ))
    client.force_login(user)
    page = client.post(ORDERS, {"action": "refund_whole_order", "_selected_action": [team.pk]}, follow=True)
    html = page.content.decode()
    assert page.status_code in (200, 403)
    assert "Refund these orders?" not in html and "refund-amount" not in html
    assert '<option value="refund_whole_order"' not in html
    assert stripe_double.requests == []
    team.refresh_from_db()
    assert team.status == Order.Status.PAID


def _refunded_in_stripes_dashboard():
    """3 seats for $360; $200 of it refunded by hand in Stripe's dashboard: $160 is left to refund."""
    order = OrderFactory(seat_count=3, seats=["Ana Diaz"], stripe_payment_intent_id="pi_part")
    record_refund(order, 20000, kind=Refund.Kind.STRIPE)
    return order, "$160.00", "16000", 3


def _one_seat_refunded_at_a_discount():
    """3 seats for $350 after a code; one seat refunded ($116.66): the other two are $233.34 between them."""
    order = OrderFactory(seat_count=3, total_cents=35000, refunded_seat_count=1, refunded=11666,
                         seats=["Ana Diaz"], stripe_payment_intent_id="pi_part")
    Seat.objects.filter(order=order, position=3).update(status=Seat.Status.REFUNDED)
    return order, "$233.34", "23334", 2


@pytest.mark.parametrize("partly_refunded", [_refunded_in_stripes_dashboard, _one_seat_refunded_at_a_discount])
def test_a_partly_refunded_order_refunds_what_the_confirmation_showed(staff_client, stripe_double, partly_refunded):
    order, shown, cents, seats = partly_refunded()
    page = choose_refund(staff_client, [order])
    assert f'Refund <strong class="refund-amount">{shown}</strong> and cancel {seats} seats' in page.content.decode()
    press_yes(staff_client, page)
    assert refunds_asked(stripe_double) == [("pi_part", cents)]
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_an_order_whose_payment_was_refused_is_shown_returning_it(staff_client, stripe_double):
    late = OrderFactory(status=Order.Status.NEEDS_REFUND, payment=False, seats=[], stripe_payment_intent_id="pi_late")
    Payment.objects.create(order=late, amount_cents=12000, currency="usd", source=Payment.Source.CHECKOUT,
                           status=Payment.Status.REFUSED, stripe_payment_intent_id="pi_late", received_at=late.paid_at)
    page = choose_refund(staff_client, [late])
    html = page.content.decode()
    assert "its refused payment(s) will be returned" in html
    assert "Stripe Checkout pi_late: $120.00" in html
    assert stripe_double.requests == []
    press_yes(staff_client, page)
    assert refunds_asked(stripe_double) == [("pi_late", "12000")]


def test_an_unpaid_order_is_shown_as_skipped_with_no_button_to_press(staff_client, stripe_double):
    pending = OrderFactory(status=Order.Status.PENDING, seats=[])
    html = choose_refund(staff_client, [pending]).content.decode()
    assert "Skipped, nothing is refunded.</strong> Its status is “Awaiting payment”: only paid orders are refunded." in html
    assert "None of the selected orders can be refunded." in html
    assert 'name="post"' not in html
    assert stripe_double.requests == []


def test_orders_to_skip_are_listed_beside_the_ones_refunded(staff_client, team, stripe_double):
    refunded = OrderFactory(status=Order.Status.REFUNDED, seats=[])
    html = choose_refund(staff_client, [team, refunded]).content.decode()
    assert 'Refund <strong class="refund-amount">$240.00</strong>' in html
    assert f"{refunded.reference}" in html and "Its status is “Refunded”: only paid orders are refunded." in html
    assert html.count('name="_selected_action"') == 2
