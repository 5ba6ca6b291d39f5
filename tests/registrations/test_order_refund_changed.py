"""Refund the whole order: "Yes" refunds each order as the confirmation page showed it, or not at all. An order that
changed between the page and "Yes" (paid meanwhile, grown, refunded by another member of staff) is not refunded: the
page comes back with what it would refund now and says what changed; the orders that did not change are refunded."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from registrations.models import Order, Refund, Seat
from tests.registrations.helpers import choose_whole_order_refund, press_yes, registration_data
from tests.registrations.test_refund_races import at_once

# Payments are fulfilled on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def place(client, workshop, *, email: str, seat_count: int = 2) -> Order:
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=seat_count, buyer_email=email))
    return Order.objects.get(kind=Order.Kind.PURCHASE, buyer_email=email)


def pay(order, stripe_double, post_webhook, *, then=Order.Status.PAID) -> Order:
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    assert order.status == then
    return order


def refunds_asked(stripe_double) -> list[str]:
    return [r["params"]["amount"] for r in stripe_double.requests_to("POST", "/v1/refunds")]


def test_an_order_that_grew_after_the_page_is_not_refunded_until_confirmed_again(
    staff_client, client, workshop, stripe_double, post_webhook
):
    team = pay(place(client, workshop, email="maya@lincoln.example"), stripe_double, post_webhook)
    page = choose_whole_order_refund(staff_client, [team])
    assert 'Refund <strong class="refund-amount">$240.00</strong> and cancel 2 seats' in page.content.decode()
    client.post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "1"})
    pay(Order.objects.get(parent=team), stripe_double, post_webhook, then=Order.Status.MERGED)

    again = press_yes(staff_client, page)
    html = again.content.decode()
    assert refunds_asked(stripe_double) == []
    team.refresh_from_db()
    assert (team.status, team.seats.filter(status=Seat.Status.ACTIVE).count()) == (Order.Status.PAID, 3)
    assert f"Order {team.reference} changed since you looked: it now refunds $360.00, not $240.00. Check and confirm again." in html
    assert 'Refund <strong class="refund-amount">$360.00</strong> and cancel 3 seats' in html

    press_yes(staff_client, again)
    assert sorted(refunds_asked(stripe_double)) == ["12000", "24000"]
    team.refresh_from_db()
    assert team.status == Order.Status.REFUNDED


def test_an_order_paid_after_the_page_listed_it_skipped_is_not_refunded(
    staff_client, client, workshop, stripe_double, post_webhook
):
    team = pay(place(client, workshop, email="maya@lincoln.example"), stripe_double, post_webhook)
    late = place(client, workshop, email="lee@lincoln.example", seat_count=1)
    page = choose_whole_order_refund(staff_client, [team, late])
    assert "Its status is “Awaiting payment”" in page.content.decode()
    pay(late, stripe_double, post_webhook)

    html = press_yes(staff_client, page).content.decode()
    assert refunds_asked(stripe_double) == ["24000"]  # the order unchanged is refunded as shown
    late.refresh_from_db()
    assert late.status == Order.Status.PAID and not late.refunds.exists()
    assert (f"Order {late.reference} changed since you looked: it now refunds $120.00, not nothing (it was listed as "
            "skipped). Check and confirm again.") in html
    assert f"{team.reference}: refunded $240.00; the buyer has been emailed." in html
    assert 'Refund <strong class="refund-amount">$120.00</strong> and cancel 1 seat' in html
    assert f'name="_selected_action" value="{team.pk}"' not in html  # the page again lists only what changed


def test_yes_without_the_amounts_the_page_showed_refunds_nothing(staff_client, client, workshop, stripe_double, post_webhook):
    team = pay(place(client, workshop, email="maya@lincoln.example"), stripe_double, post_webhook)
    html = staff_client.post(
        "/admin/registrations/order/", {"action": "refund_whole_order", "_selected_action": [team.pk], "post": "yes"}
    ).content.decode()
    assert refunds_asked(stripe_double) == []
    assert f"Order {team.reference}: check what it refunds now ($240.00) and confirm again." in html
    team.refresh_from_db()
    assert team.status == Order.Status.PAID


def staff(name: str) -> Client:
    user = get_user_model().objects.create_user(name, f"{name}@example.org", "pw", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.postgres
def test_two_staff_confirming_the_same_refund_at_once_refund_it_once(client, workshop, stripe_double, post_webhook):
    team = pay(place(client, workshop, email="maya@lincoln.example"), stripe_double, post_webhook)
    ana, ben = staff("ana"), staff("ben")
    pages = [choose_whole_order_refund(ana, [team]), choose_whole_order_refund(ben, [team])]
    answers = at_once(lambda: press_yes(ana, pages[0]), lambda: press_yes(ben, pages[1]))
    assert refunds_asked(stripe_double) == ["24000"]
    assert Refund.objects.filter(order=team).count() == 1
    texts = sorted(a.content.decode() for a in answers)
    refunded = [t for t in texts if f"{team.reference}: refunded $240.00" in t]
    told = [t for t in texts if f"Order {team.reference} changed since you looked: it now refunds nothing, not $240.00" in t]
    assert (len(refunded), len(told)) == (1, 1)
