"""An order's own admin page: buttons for refunding it, refunding some of its seats and resending its confirmation,
each shown only to staff who may do it, each running the Orders list's own action on that one order; and the page's
title counts refunded seats as refunded."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from auditlog.models import LogEntry
from django.test import Client

from registrations.models import Order, Refund, Seat
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

ORDERS = "/admin/registrations/order/"
SEATS = "/admin/registrations/seat/"


@pytest.fixture
def team():
    return OrderFactory(seat_count=3, seats=["Ana Diaz", "Ben Okafor", "Chen Wei"], buyer_name="Lena Lead",
                        stripe_payment_intent_id="pi_team")


def change_page(order) -> str:
    return f"{ORDERS}{order.pk}/change/"


def do_url(order, action: str) -> str:
    return f"{ORDERS}{order.pk}/do/{action}/"


def tools(html: str) -> str:
    """The object tools above the change form."""
    match = re.search(r'<ul class="object-tools">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def press_yes(client, page):
    """Submit the confirmation as a browser would: its hidden fields, to the page's own URL (its form has no action)."""
    form = page.content.decode().split('<form method="post">', 1)[1].split("</form>", 1)[0]
    data: dict = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        data.setdefault(name, []).append(value)
    return client.post(page.wsgi_request.path, data, follow=True)


def clerk(django_user_model, *codenames) -> Client:
    """A staff account with exactly these order permissions (a narrower job than any role)."""
    user = django_user_model.objects.create_user("orders-clerk", "c@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="registrations", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def test_finance_sees_all_three_buttons_on_a_paid_order(role_client, team):
    html = tools(role_client("Finance").get(change_page(team)).content.decode())
    assert f'<form method="post" action="{do_url(team, "refund_whole_order")}"' in html
    assert "Refund this order…" in html and "Resend confirmation" in html
    assert f'<a href="{SEATS}?order__id__exact={team.pk}">Refund seats…</a>' in html
    assert html.count('name="csrfmiddlewaretoken"') == 2


def test_refund_this_order_shows_the_confirmation_and_refunds_nothing_yet(role_client, team, stripe_double):
    page = role_client("Finance").post(do_url(team, "refund_whole_order"))
    html = page.content.decode()
    assert "<h1>Refund these orders?</h1>" in html
    assert 'Refund <strong class="refund-amount">$360.00</strong> and cancel 3 seats' in html
    assert f'<input type="hidden" name="_selected_action" value="{team.pk}">' in html
    assert stripe_double.requests == [] and not Refund.objects.exists()


def test_yes_on_that_confirmation_refunds_the_order_and_returns_to_its_page(role_client, team, stripe_double):
    client = role_client("Finance")
    answer = press_yes(client, client.post(do_url(team, "refund_whole_order")))
    assert answer.redirect_chain == [(change_page(team), 302)]
    assert f"{team.reference}: refunded $360.00; the buyer has been emailed." in answer.content.decode()
    assert [r["params"]["amount"] for r in stripe_double.requests_to("POST", "/v1/refunds")] == ["36000"]
    team.refresh_from_db()
    assert team.status == Order.Status.REFUNDED


def test_a_refund_from_the_order_page_is_in_the_audit_trail_under_who_pressed_it(role_client, team, stripe_double):
    client = role_client("Finance")
    press_yes(client, client.post(do_url(team, "refund_whole_order")))
    changes = LogEntry.objects.get_for_object(team).filter(actor=client.user)
    assert any("status" in (entry.changes_dict or {}) for entry in changes)


def test_no_take_me_back_returns_to_the_order_page_without_refunding(role_client, team, stripe_double):
    client = role_client("Finance")
    client.post(do_url(team, "refund_whole_order"))
    back = client.get(do_url(team, "refund_whole_order"))  # the confirmation's "No, take me back" link
    assert (back.status_code, back["Location"]) == (302, change_page(team))
    assert stripe_double.requests == [] and not Refund.objects.exists()


def test_resend_confirmation_button_emails_the_buyer_again(role_client, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = role_client("Finance").post(do_url(team, "resend_confirmation"), follow=True)
    assert answer.redirect_chain == [(change_page(team), 302)]
    assert "Resent 1 confirmation(s)." in answer.content.decode()
    assert [m for m in mail.outbox if m.to == [team.buyer_email] and team.reference in m.subject]


def test_refund_seats_opens_the_seat_list_of_this_order_only(role_client, team):
    OrderFactory(seats=["Someone Else"])
    html = role_client("Finance").get(f"{SEATS}?order__id__exact={team.pk}").content.decode()
    assert "Ana Diaz" in html and "Chen Wei" in html and "Someone Else" not in html
    assert 'value="refund_selected_seats"' in html


def test_staff_without_the_refund_permission_see_no_refund_buttons(django_user_model, team):
    html = tools(clerk(django_user_model, "view_order", "change_order", "view_seat").get(change_page(team)).content.decode())
    assert "Resend confirmation" in html
    assert "Refund" not in html and "/do/refund_whole_order/" not in html


def test_posting_the_refund_button_without_the_permission_is_refused(django_user_model, team, stripe_double):
    client = clerk(django_user_model, "view_order", "change_order")
    for extra in ({}, {"post": "yes", f"amount_{team.pk}": "36000", f"seats_{team.pk}": "3"}):
        assert client.post(do_url(team, "refund_whole_order"), extra).status_code == 403
    assert stripe_double.requests == [] and not Refund.objects.exists()
    team.refresh_from_db()
    assert team.status == Order.Status.PAID


def test_view_only_staff_get_no_resend_button_and_cannot_post_it(django_user_model, team):
    client = clerk(django_user_model, "view_order")
    assert tools(client.get(change_page(team)).content.decode()).count("<form") == 0
    assert client.post(do_url(team, "resend_confirmation")).status_code == 403
    assert not mail.outbox


def test_staff_who_may_not_see_orders_cannot_use_the_buttons(role_client, team, stripe_double):
    client = role_client("Coordinator")
    assert client.post(do_url(team, "refund_whole_order")).status_code == 403
    assert client.post(do_url(team, "resend_confirmation")).status_code == 403
    assert stripe_double.requests == []


def test_only_the_order_actions_offered_as_buttons_can_be_run_this_way(role_client, team):
    """Any other list action (the CSV export, marking an invoice paid) is not reachable through the page's URL."""
    client = role_client("Finance")
    for action in ("export_csv", "mark_invoice_paid_out_of_band", "delete_selected", "nonsense"):
        assert client.post(do_url(team, action)).status_code == 403, action


def test_the_buttons_need_the_csrf_token(django_user_model, team, stripe_double):
    client = Client(enforce_csrf_checks=True)
    user = django_user_model.objects.create_user("boss", "b@example.org", "pw", is_staff=True, is_superuser=True)
    client.force_login(user)
    assert client.post(do_url(team, "refund_whole_order")).status_code == 403
    assert client.post(do_url(team, "resend_confirmation")).status_code == 403
    assert stripe_double.requests == [] and not mail.outbox


def test_unpaid_order_has_no_resend_button(role_client):
    pending = OrderFactory(status=Order.Status.PENDING, paid_at=None, payment=False)
    html = tools(role_client("Finance").get(change_page(pending)).content.decode())
    assert "Resend confirmation" not in html and "Refund this order…" in html


def test_wholly_refunded_order_offers_no_seats_to_refund(role_client):
    gone = OrderFactory(seat_count=2, status=Order.Status.REFUNDED, refunded_seat_count=2, refunded=24000)
    assert "Refund seats…" not in tools(role_client("Finance").get(change_page(gone)).content.decode())


def test_the_title_counts_refunded_seats_as_refunded(staff_client, stripe_double):
    team = OrderFactory(seat_count=8, seats=["Ana Diaz", "Ben Okafor"], buyer_name="Lena Lead")
    staff_client.post(SEATS, {"action": "refund_selected_seats", "_selected_action": [team.seats.get(position=2).pk],
                              "post": "yes"})
    assert team.seats.filter(status=Seat.Status.REFUNDED).count() == 1
    html = staff_client.get(change_page(team)).content.decode()
    assert f"{team.reference} – Lena Lead (8 seats, 1 refunded)" in html
    assert "(8 seats)" not in html


def test_the_title_of_an_order_with_nothing_refunded_is_unchanged(staff_client):
    single = OrderFactory(buyer_name="Eve Adams")
    assert f"{single.reference} – Eve Adams (1 seat)</h2>" in staff_client.get(change_page(single)).content.decode()
