"""Review (staff s9) of the order page's buttons (/admin/registrations/order/<pk>/do/<action>/), the whole-order
refund confirmation's shown amounts, unreadable ticked rows and the order title: a narrow role, two staff at the same
moment and a curious stranger. Each states a rule it checks (three were defects when found, fixed the same session)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from registrations.models import Order, Refund
from tests.factories import OrderFactory
from tests.registrations.helpers import registration_data
from tests.registrations.test_refund_races import at_once

ORDERS = "/admin/registrations/order/"
SEATS = "/admin/registrations/seat/"
FINANCE_CODENAMES = ("view_order", "change_order", "refund_order", "view_seat", "view_refund", "view_payment")


def do_url(pk, action: str = "refund_whole_order") -> str:
    return f"{ORDERS}{pk}/do/{action}/"


def change_page(order) -> str:
    return f"{ORDERS}{order.pk}/change/"


def finance_clerk(django_user_model, username: str) -> Client:
    """A Finance member of staff through their own permissions (a transactional test flushes the role groups)."""
    user = django_user_model.objects.create_user(username, f"{username}@example.org", "pw", is_staff=True)
    finance = Permission.objects.filter(content_type__app_label="registrations", codename__in=FINANCE_CODENAMES)
    user.user_permissions.set(finance)
    client = Client()
    client.force_login(user)
    return client


def refunds_asked(stripe_double) -> list[str]:
    return [r["params"]["amount"] for r in stripe_double.requests_to("POST", "/v1/refunds")]


@pytest.fixture
def team(db):
    return OrderFactory(seat_count=3, seats=["Ana Diaz", "Ben Okafor", "Chen Wei"], buyer_name="Lena Lead",
                        stripe_payment_intent_id="pi_team")


# --- Defects -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["²", "9" * 5000], ids=["superscript-two", "5000-digits"])
def test_an_unreadable_shown_amount_is_refused_with_the_page_not_a_server_error(role_client, team, stripe_double, amount):
    client = role_client("Finance")
    client.raise_request_exception = False
    answer = client.post(do_url(team.pk), {"post": "yes", f"amount_{team.pk}": amount, f"seats_{team.pk}": "3"})
    assert answer.status_code == 200 and "<h1>Refund these orders?</h1>" in answer.content.decode()
    assert refunds_asked(stripe_double) == [] and not Refund.objects.exists()


@pytest.mark.django_db
def test_a_role_without_orders_gets_the_same_answer_whether_the_order_exists_or_not(role_client, team):
    client = role_client("Coordinator")
    assert client.get(change_page(team)).status_code == client.get(f"{ORDERS}{team.pk + 1000}/change/").status_code == 403
    for action in ("refund_whole_order", "resend_confirmation"):
        assert client.post(do_url(team.pk, action)).status_code == client.post(do_url(team.pk + 1000, action)).status_code


@pytest.mark.django_db(transaction=True)
def test_the_page_of_added_seats_offers_no_seat_refund_that_lists_nothing(staff_client, client, workshop, stripe_double,
                                                                           post_webhook):
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    team = Order.objects.get(kind=Order.Kind.PURCHASE)
    post_webhook("checkout.session.completed", stripe_double.pay(team.stripe_checkout_session_id))
    client.post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "1"})
    addition = Order.objects.get(parent=team)
    post_webhook("checkout.session.completed", stripe_double.pay(addition.stripe_checkout_session_id))
    addition.refresh_from_db()
    assert addition.status == Order.Status.MERGED and not addition.seats.exists()
    html = staff_client.get(change_page(addition)).content.decode()
    assert "Refund seats…" not in html


# --- What holds ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_shown_fields_tampered_any_way_refund_nothing_and_bring_the_page_back(role_client, team, stripe_double):
    """Lower, higher, negative, huge, keyed to another order, or duplicated with the last copy wrong: never refunded."""
    other = OrderFactory(seat_count=1, seats=["Eve Adams"])
    client = role_client("Finance")
    tampered = [
        {f"amount_{team.pk}": "100", f"seats_{team.pk}": "3"},
        {f"amount_{team.pk}": "99999", f"seats_{team.pk}": "3"},
        {f"amount_{team.pk}": "-36000", f"seats_{team.pk}": "3"},
        {f"amount_{team.pk}": "9" * 40, f"seats_{team.pk}": "3"},
        {f"amount_{team.pk}": "36000", f"seats_{team.pk}": "1"},
        {f"amount_{other.pk}": "36000", f"seats_{other.pk}": "3"},
        {f"amount_{team.pk}": ["36000", "36001"], f"seats_{team.pk}": ["3", "3"]},
    ]
    for fields in tampered:
        answer = client.post(do_url(team.pk), {"post": "yes", "_selected_action": [team.pk, other.pk], **fields})
        assert answer.status_code == 200 and "<h1>Refund these orders?</h1>" in answer.content.decode(), fields
    assert refunds_asked(stripe_double) == [] and not Refund.objects.exists()
    assert {o.status for o in Order.objects.all()} == {Order.Status.PAID}


@pytest.mark.django_db
def test_a_next_parameter_never_takes_the_buttons_anywhere_but_the_order(role_client, team, stripe_double):
    client = role_client("Finance")
    evil = {"next": "https://evil.example/", "_changelist_filters": "//evil.example", "return": "//evil.example"}
    back = client.get(do_url(team.pk), evil)
    assert (back.status_code, back["Location"]) == (302, change_page(team))
    done = client.post(do_url(team.pk) + "?next=https://evil.example/",
                       {"post": "yes", f"amount_{team.pk}": "36000", f"seats_{team.pk}": "3", **evil})
    assert (done.status_code, done["Location"]) == (302, change_page(team))
    assert refunds_asked(stripe_double) == ["36000"]


@pytest.mark.django_db
def test_strangers_and_staff_with_no_role_cannot_use_the_buttons(client, django_user_model, team, stripe_double):
    shown = {"post": "yes", f"amount_{team.pk}": "36000", f"seats_{team.pk}": "3"}
    stranger = client.post(do_url(team.pk), shown)
    assert stranger.status_code == 302 and stranger["Location"].startswith("/admin/login/")
    nobody = Client()
    nobody.force_login(django_user_model.objects.create_user("no-role", "n@example.org", "pw", is_staff=True))
    for action in ("refund_whole_order", "resend_confirmation", "resend_pending_seat_refunds"):
        assert nobody.post(do_url(team.pk, action), shown).status_code == 403
    assert refunds_asked(stripe_double) == [] and Order.objects.get(pk=team.pk).status == Order.Status.PAID


@pytest.mark.django_db
def test_order_ids_that_name_no_order_are_404_not_a_server_error(role_client, team, stripe_double):
    client = role_client("Finance")
    for pk in ("99999999999999999999999", "0", "-1", "abc", "1.5", f"{team.pk}%00", f"{team.pk}/x"):
        assert client.post(do_url(pk), {"post": "yes"}).status_code == 404, pk
    assert refunds_asked(stripe_double) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_finance_staff_pressing_yes_on_the_order_page_at_once_refund_it_once(django_user_model, stripe_double):
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"], stripe_payment_intent_id="pi_race")
    first, second = finance_clerk(django_user_model, "fin-a"), finance_clerk(django_user_model, "fin-b")
    shown = {"post": "yes", "_selected_action": [order.pk], f"amount_{order.pk}": "24000", f"seats_{order.pk}": "2"}
    answers = at_once(lambda: first.post(do_url(order.pk), shown), lambda: second.post(do_url(order.pk), shown))
    assert sorted(a.status_code for a in answers) == [200, 302]  # one refunded; the other's page comes back
    assert refunds_asked(stripe_double) == ["24000"]
    assert Refund.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert (order.status, order.refunded_seat_count) == (Order.Status.REFUNDED, 2)
