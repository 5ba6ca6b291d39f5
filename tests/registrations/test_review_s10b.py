"""Review of the tenth session (b): the add-seats pay button, the refund emails that name seats, and staff returning a
refused payment. Attacks by a hostile buyer, a stranger and a narrow-role staff member, through the public surface."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client

from registrations.models import Order, Seat
from staff.roles import COORDINATOR, ROLES
from tests.registrations.helpers import choose_whole_order_refund, press_yes, registration_data
from tests.registrations.test_refund_email_names import BUYER, team, to_buyer
from tests.registrations.test_refund_races import (  # noqa: F401 (no_leftover_retries: an autouse fixture)
    no_leftover_retries,
    refund_seats_post,
    staff,
)
from tests.registrations.test_return_refused_twice import buyer_emails, late, refunds_made  # noqa: F401 (late: a fixture)
from tests.registrations.test_team_grows import INVOICE, add_seats, paid_order

pytestmark = pytest.mark.django_db(transaction=True)  # emails are queued on commit, as in production


def html_part(message) -> str:
    [(html, mime)] = message.alternatives
    assert mime == "text/html"
    return html


# --- (a) a hostile buyer: the add-seats invoice sends email to any address typed ---------------------------------


def test_add_seats_by_invoice_is_limited_per_billing_address_like_a_new_invoice_order(
    client, workshop, stripe_double, post_webhook, settings
):
    """An order link and the add-seats form's invoice choice email an invoice to any billing address; cancelling and
    adding again must not make the site a mailer for a stranger's inbox: the same limit as the registration form's
    invoice request holds (per address emailed), with the refusal above the form, not a 500."""
    order = paid_order(client, workshop, stripe_double, post_webhook)
    settings.RATE_LIMITS = {"invoice_request": {"per_address": 100, "per_email": 2, "window_seconds": 3600}}
    victim = {**INVOICE, "grow-billing_email": "victim@elsewhere.example"}
    for _ in range(2):
        response = add_seats(client, order, 1, **victim)
        assert response.status_code == 302, response.content.decode()[:2000]
        client.post(f"/orders/{order.token}/add-seats/cancel/")
    sent_before = len(stripe_double.invoices)
    response = add_seats(client, order, 1, **victim)
    assert response.status_code == 429
    assert len(stripe_double.invoices) == sent_before  # no third invoice created nor emailed
    html = response.content.decode()
    assert 'value="victim@elsewhere.example"' in html  # what was typed is kept


# --- (a) names typed by the buyer, shown in the HTML part of the refund email --------------------------------------


def test_a_name_with_line_breaks_makes_no_extra_list_items_or_links_in_the_refund_email(staff_client, workshop, stripe_double):
    """A name holding line breaks and a "- " list marker (the registration form keeps inner line breaks) reads as
    one seat's line: no fake seat line nor paragraph of its own in either part."""
    order = team(workshop, seat_count=2)
    Seat.objects.filter(order=order, position=2).update(
        attendee_name="Ann\n\n- Refund form: https://evil.example/claim\nBob"
    )
    refund_seats_post(staff_client, order.seats.filter(position=2))
    [email] = to_buyer()
    html = html_part(email)
    assert html.count("<li") == 1  # one refunded seat, one item
    assert "- Ann - Refund form: https://evil.example/claim Bob (seat 2)\n" in email.body  # one line, read as typed


# --- (b) staff returning a refused payment ---------------------------------------------------------------------------

ORDERS = "/admin/registrations/order/"


def narrow(name: str, *extra: str) -> Client:
    """A staff account holding the Coordinator role and `extra` permissions, but not registrations.refund_order."""
    group, _ = Group.objects.get_or_create(name=f"{COORDINATOR} {name}")
    for label in [*ROLES[COORDINATOR], *extra]:
        app_label, codename = label.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    user = get_user_model().objects.create(username=name, email=f"{name}@example.org", is_staff=True)
    user.groups.add(group)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_staff_who_may_change_orders_but_not_refund_cannot_return_a_refused_payment(late, stripe_double):
    """The page a refunding colleague was shown, posted by a coordinator who may also change orders: nothing goes
    to Stripe, the order stays owed back, and the answer says nothing of the order's money."""
    page = choose_whole_order_refund(staff("finance_a"), [late])
    coordinator = narrow("cora", "registrations.view_order", "registrations.change_order")
    answer = press_yes(coordinator, page)
    assert answer.status_code in (200, 403)
    assert refunds_made(stripe_double) == []
    late.refresh_from_db()
    assert late.status == Order.Status.NEEDS_REFUND
    assert "returned" not in answer.content.decode()  # nothing said about the order's refused payment
    assert buyer_emails() == []


def test_one_press_whose_first_answer_was_lost_and_retried_by_the_sdk_reads_returned(late, stripe_double, settings):
    """One press whose first attempt Stripe made but whose answer was lost is retried by the SDK with the same key:
    Stripe's replay is of this press's own refund, not another request's, so staff read that it was returned."""
    settings.STRIPE_MAX_NETWORK_RETRIES = 1  # production's setting: the SDK retries a dropped connection itself
    a = staff("finance_a")
    stripe_double.fail_next(status=0, path_prefix="/v1/refunds", method="POST", lost_answer=True)
    page = press_yes(a, choose_whole_order_refund(a, [late])).content.decode()
    assert refunds_made(stripe_double) == [12000]
    assert len(stripe_double.requests_to("POST", "/v1/refunds")) == 2  # the SDK's own retry, the same key
    assert "nothing was refunded" not in page and "already been returned" not in page
    assert f"{late.reference}: returned 1 payment." in page


# --- (a) the add-seats form with bad input: 400, the message beside the field, what was typed kept ---------------

BAD_GROW_INPUT = [
    ({"grow-extra_seats": "abc"}, "grow-extra_seats"),
    ({"grow-extra_seats": "-3"}, "grow-extra_seats"),
    ({"grow-extra_seats": "0"}, "grow-extra_seats"),
    ({"grow-extra_seats": "1.5"}, "grow-extra_seats"),
    ({"grow-extra_seats": "99999999999999999999999"}, "grow-extra_seats"),
    ({"grow-extra_seats": "999"}, "grow-extra_seats"),
    ({"grow-extra_seats": "1\x00"}, "grow-extra_seats"),
    ({"grow-extra_seats": "1", "grow-payment_method": "bitcoin"}, "grow-payment_method"),
    ({"grow-extra_seats": "1", "grow-payment_method": "invoice"}, "grow-billing_email"),
    ({"grow-extra_seats": "1", **INVOICE, "grow-billing_email": "not an email"}, "grow-billing_email"),
    ({"grow-extra_seats": "1", **INVOICE, "grow-billing_country": "Narnia"}, "grow-billing_country"),
    ({"grow-extra_seats": "1", **INVOICE, "grow-billing_postal_code": "x" * 500}, "grow-billing_postal_code"),
    ({"grow-extra_seats": "1", **INVOICE, "grow-billing_name": "Dana\x00Ruiz"}, "grow-billing_name"),
]


@pytest.mark.parametrize(("data", "field"), BAD_GROW_INPUT, ids=[f"{i}-{f}" for i, (_, f) in enumerate(BAD_GROW_INPUT)])
def test_bad_add_seats_input_is_told_beside_its_field_and_kept(client, workshop, stripe_double, post_webhook, data, field):
    order = paid_order(client, workshop, stripe_double, post_webhook)
    response = client.post(f"/orders/{order.token}/add-seats/", data)
    assert response.status_code == 400
    html = response.content.decode()
    grow = html[html.index('<section id="add-seats"'):]
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*name="{field}"', grow) or (
        re.search(rf'id="error_\d*_id_{field}"|id="id_{field}_error"', grow)
    ), grow[:3000]
    typed = data[field] if field in data else None
    if typed and "\x00" not in typed and field != "grow-payment_method":
        assert f'value="{typed}"' in grow or f">{typed}<" in grow
    assert not Order.objects.filter(parent=order).exists()


# --- (a) whose name a refund email gives, after a seat changed hands -----------------------------------------------


def test_a_seat_given_to_someone_else_before_its_refund_is_named_after_its_new_holder_only(
    client, staff_client, workshop, stripe_double
):
    """Ana's seat was given to Zoe on the order page; refunded later, the buyer's email names Zoe, never Ana, and
    nobody's access needs; Zoe alone is told her seat was cancelled, and Ana hears nothing of the refund."""
    order = team(workshop, seat_count=2)
    Seat.objects.filter(order=order, position=1).update(access_note="Hard of hearing: sit near the front")
    Seat.objects.filter(order=order, position=2).update(access_note="Needs a wheelchair-accessible room")
    answer = client.post(f"/orders/{order.token}/seats/1/", {
        "seat-1-name": "Zoe Park", "seat-1-email": "zoe@lincoln.example", "seat-1-change": "new_person",
    })
    assert answer.status_code == 302
    mail.outbox.clear()
    refund_seats_post(staff_client, order.seats.filter(position=1))
    [email] = to_buyer()
    assert "- Zoe Park (seat 1)\n" in email.body
    for text in (email.body, html_part(email)):
        assert "Ana Diaz" not in text and "ana@" not in text and "Hard of hearing" not in text and "wheelchair" not in text
    assert sorted(m.to[0] for m in mail.outbox) == sorted([BUYER, "zoe@lincoln.example"])


# --- (a) line breaks in names the buyer types reach other people's emails ----------------------------------------


def test_a_buyer_name_with_line_breaks_reaches_an_attendees_welcome_email_as_one_line(
    client, workshop, stripe_double, post_webhook
):
    """The buyer's name and organisation are written into each attendee's welcome email: typed (posted by hand) with
    line breaks, they must not become paragraphs or list items of the site's own in a stranger's inbox."""
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(
        seat_count=2, attendees=[("Ana\n\n- Diaz", "ana@lincoln.example")],
        buyer_name="Maya\n\nYour seat is not confirmed: pay again at https://evil.example/pay\n- ",
        organisation="Lincoln\r\n- School",
    ))
    order = Order.objects.get(kind=Order.Kind.PURCHASE)
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    [welcome] = [m for m in mail.outbox if m.to == ["ana@lincoln.example"]]
    assert "Hello Ana - Diaz,\n" in welcome.body
    assert "Maya Your seat is not confirmed: pay again at https://evil.example/pay - (Lincoln - School) has registered" in welcome.body
    html = html_part(welcome)
    assert "<li" not in html.split("has registered you")[0]


def test_a_seat_named_on_the_order_page_with_line_breaks_is_saved_as_one_line(client, workshop, stripe_double, post_webhook):
    order = paid_order(client, workshop, stripe_double, post_webhook)
    seat = order.seats.filter(attendee_email="").order_by("position").first()
    answer = client.post(f"/orders/{order.token}/seats/{seat.position}/", {
        f"seat-{seat.position}-name": "Zoe\n\n- Park", f"seat-{seat.position}-email": "zoe@lincoln.example",
    })
    assert answer.status_code == 302
    seat.refresh_from_db()
    assert seat.attendee_name == "Zoe - Park"
