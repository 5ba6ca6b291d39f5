"""Seat refunds in admin, tried by staff whose role does not include refunds (Coordinator, Facilitator, an account
that may edit orders but not refund them): "Send pending seat refunds again" POSTed straight at the order list,
what the refund screens show them, and the action pressed on orders where there is nothing to send."""

import pytest
from django.contrib.auth.models import Permission

from registrations.models import Order, Refund, Seat
from tests.factories import OrderFactory
from tests.registrations.affinity_helpers import add_groups, choose

pytestmark = pytest.mark.django_db

ORDERS = "/admin/registrations/order/"
SEATS = "/admin/registrations/seat/"
ROSTER = "/admin/registrations/rosterseat/"
NEEDS = "Needs an ASL interpreter"
WAITING_NOTE = "Stripe did not confirm the refund"


@pytest.fixture
def team_order():
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    Seat.objects.filter(order=order, position=2).update(needs_interpreter=True, access_note=NEEDS)
    return order


def _action(client, url, action, objects, **extra):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **extra}, follow=True)


def _refunds_asked(stripe_double) -> list:
    return stripe_double.requests_to("POST", "/v1/refunds")


@pytest.fixture
def pending_refund(role_client, team_order, stripe_double):
    """Finance refunded seat 2; Stripe erred, so the refund waits on its answer (the worker would retry later)."""
    stripe_double.fail_next(status=500, path_prefix="/v1/refunds", method="POST")
    page = _action(role_client("Finance", "finance-a"), SEATS, "refund_selected_seats",
                   [team_order.seats.get(position=2)], post="yes")
    assert WAITING_NOTE in page.content.decode()
    refund = Refund.objects.get(order=team_order)
    assert refund.made_at is None
    stripe_double.requests.clear()
    return refund


@pytest.mark.parametrize("role", ["Coordinator", "Facilitator"])
def test_staff_without_orders_cannot_send_pending_seat_refunds_again(role_client, team_order, pending_refund, stripe_double, role):
    client = role_client(role)
    for path in (ORDERS, f"{ORDERS}{team_order.pk}/change/", f"/admin/registrations/refund/{pending_refund.pk}/change/"):
        assert client.get(path).status_code == 403, path
    page = client.post(ORDERS, {"action": "resend_pending_seat_refunds", "_selected_action": [team_order.pk]})
    assert page.status_code == 403
    assert not _refunds_asked(stripe_double)
    pending_refund.refresh_from_db()
    assert pending_refund.made_at is None


def test_editing_orders_without_the_refund_permission_cannot_send_pending_seat_refunds_again(
    client, django_user_model, team_order, pending_refund, stripe_double
):
    """An account given "view/change order" (to correct buyers' details) but not "refund_order"."""
    user = django_user_model.objects.create_user("orders-clerk", "c@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label="registrations", codename__in=["view_order", "change_order"]
    ))
    client.force_login(user)
    html = client.get(ORDERS).content.decode()
    assert 'value="resend_pending_seat_refunds"' not in html and 'value="refund_whole_order"' not in html
    for extra in ({}, {"select_across": "1", "index": "0"}):
        _action(client, ORDERS, "resend_pending_seat_refunds", [team_order], **extra)
    assert not _refunds_asked(stripe_double)
    pending_refund.refresh_from_db()
    assert pending_refund.made_at is None


def test_a_coordinator_reads_no_money_or_refund_note_about_a_seat_whose_refund_waits(role_client, team_order, pending_refund):
    client = role_client("Coordinator")
    seat = team_order.seats.get(position=2)
    for path in (f"{SEATS}{seat.pk}/change/", SEATS, ROSTER, "/admin/"):
        html = client.get(path).content.decode()
        assert "$120" not in html and "Pending at Stripe" not in html and "refund of" not in html.lower(), path


def test_the_refund_confirmation_shows_finance_no_access_needs_or_affinity_group(role_client, team_order, stripe_double):
    groups = add_groups(team_order.workshop)
    choose(team_order.seats.get(position=2), groups["Multiracial"])
    client = role_client("Finance")
    html = _action(client, SEATS, "refund_selected_seats", team_order.seats.all()).content.decode()
    assert "Refund these seats?" in html and "Ben Okafor" in html
    assert NEEDS not in html and "interpreter" not in html.lower()
    assert "Multiracial" not in html and "affinity" not in html.lower()
    assert not _refunds_asked(stripe_double)  # the confirmation page asks nothing of Stripe


@pytest.mark.parametrize("state", ["unpaid", "wholly refunded", "paid, nothing pending"])
def test_sending_pending_seat_refunds_again_where_none_wait_changes_nothing(role_client, stripe_double, state):
    order = {
        "unpaid": lambda: OrderFactory(seat_count=2, status=Order.Status.PENDING, paid_at=None, payment=False),
        "wholly refunded": lambda: OrderFactory(seat_count=2, status=Order.Status.REFUNDED, refunded=24000),
        "paid, nothing pending": lambda: OrderFactory(seat_count=2),
    }[state]()
    before = (order.status, list(order.seats.values_list("status", flat=True)), Refund.objects.count())
    page = _action(role_client("Finance"), ORDERS, "resend_pending_seat_refunds", [order])
    assert page.status_code == 200
    assert f"{order.reference}: 0 pending seat refund(s) made, 0 still waiting on Stripe." in page.content.decode()
    order.refresh_from_db()
    assert (order.status, list(order.seats.values_list("status", flat=True)), Refund.objects.count()) == before
    assert not _refunds_asked(stripe_double)
