"""A stranger's review: emails that go to an address someone else typed, and forms a stranger can probe.

The order page names every attendee (name, email, pre-work progress) and can give their seats away; with `?from=` it
also refills the buyer's own access needs. It is the team lead's link (README, "Privacy: who sees what").
"""

import re

import pytest
from django.core import mail

from registrations.models import Order
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db

BILLING = {
    "payment_method": "invoice", "billing_name": "Accounts Payable", "billing_email": "ap@lincoln-usd.example",
    "billing_line1": "100 Main Street", "billing_city": "Oakland", "billing_state": "CA", "billing_postal_code": "94612",
}


def _text(message) -> str:
    return message.body + "".join(str(content) for content, _ in getattr(message, "alternatives", []))


def test_the_billing_contact_is_not_sent_the_order_page_that_names_the_attendees(client, stripe_double, django_capture_on_commit_callbacks):
    """Rule: the order page's link goes to the buyer only; the billing contact gets the invoice."""
    workshop = WorkshopFactory()
    data = registration_data(seat_count=2, attendees=[("Ana Diaz", "ana@lincoln.example")],
                             access_note="Maya: anxiety disorder, may step out", **BILLING)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/workshops/{workshop.slug}/register/", data).status_code == 302
    order = Order.objects.get()
    to_billing = [m for m in mail.outbox if m.to == ["ap@lincoln-usd.example"]]
    assert to_billing, [m.to for m in mail.outbox]
    leaked = [m for m in to_billing if order.token in _text(m)]
    if leaked:
        # What the billing contact can then read with it.
        stranger = client.__class__()
        page = stranger.get(f"/orders/{order.token}/").content.decode()
        again = stranger.get(f"/workshops/{workshop.slug}/register/?from={order.token}").content.decode()
        assert "Ana Diaz" in page and "ana@lincoln.example" in page
        assert "anxiety disorder" in again
        # ...and once the invoice is paid, the lead attending, "Go to your attendee page": the lead's own seat page
        # (their affinity group and Zoom email).
        Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
        page = stranger.get(f"/orders/{order.token}/").content.decode()
        assert f"/seats/{order.seats.get(position=1).token}/" in page
    assert leaked == []


def test_the_buyer_still_gets_their_order_link_when_someone_else_pays(client, stripe_double, django_capture_on_commit_callbacks):
    """Rule (companion): the buyer's own invoice email keeps the order link."""
    workshop = WorkshopFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/workshops/{workshop.slug}/register/", registration_data(**BILLING)).status_code == 302
    order = Order.objects.get()
    to_buyer = [m for m in mail.outbox if m.to == ["maya@lincoln.example"]]
    assert any(order.token in _text(m) for m in to_buyer)


def test_no_email_to_an_address_a_stranger_typed_carries_an_attendees_link(client, stripe_double, post_webhook, django_capture_on_commit_callbacks):
    """Rule: the buyer (whatever address they typed for themselves) never gets another attendee's link or needs."""
    workshop = WorkshopFactory()
    data = registration_data(seat_count=3, attendees=[("Ana Diaz", "ana@lincoln.example"), ("Ben Okafor", "ben@lincoln.example")])
    data["attendees-0-access_note"] = "Ana: hard of hearing"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/workshops/{workshop.slug}/register/", data).status_code == 302
        order = Order.objects.get()
        post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    ana, ben = order.seats.get(position=2), order.seats.get(position=3)
    for message in mail.outbox:
        text = _text(message)
        if message.to != ["ana@lincoln.example"]:
            assert ana.token not in text and "hard of hearing" not in text, message.to
        if message.to != ["ben@lincoln.example"]:
            assert ben.token not in text, message.to


def test_the_seat_alert_form_answers_a_known_and_an_unknown_address_alike(client):
    """Rule: 'Email me when seats open up' says the same whether or not the address asked before."""
    workshop = WorkshopFactory(capacity=1)
    OrderFactory(workshop=workshop, seat_count=1)
    url = f"/workshops/{workshop.slug}/notify-me/"
    assert client.post(url, {"email": "known@lincoln.example"}).status_code == 302
    answers = []
    for email in ("known@lincoln.example", "new@lincoln.example"):
        fresh = client.__class__()
        response = fresh.post(url, {"email": email}, follow=True)
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        answers.append((response.status_code, response.redirect_chain, html.replace(email, "EMAIL")))
    assert answers[0] == answers[1]


def test_email_me_my_links_counts_a_known_and_an_unknown_address_alike(client, settings, django_capture_on_commit_callbacks):
    """Rule: the per-inbox limit is reached after the same number of requests whether or not the address is known,
    so the 429 tells a stranger nothing."""
    settings.LINKS_REQUESTS_PER_EMAIL_PER_HOUR = 2
    settings.LINKS_REQUESTS_PER_IP_PER_HOUR = 100
    OrderFactory(buyer_email="known@lincoln.example", seat_count=1, seats=["Known Person"])
    statuses = {}
    for email in ("known@lincoln.example", "unknown@lincoln.example"):
        with django_capture_on_commit_callbacks(execute=True):
            statuses[email] = [client.post("/links/", {"email": email}).status_code for _ in range(3)]
    assert statuses["known@lincoln.example"] == statuses["unknown@lincoln.example"] == [302, 302, 429]


def test_private_pages_tell_the_browser_not_to_send_their_link_as_a_referer(client):
    """Rule: a link followed from a private page (Zoom, a pre-work reading) does not carry the token."""
    order = OrderFactory(seat_count=1, seats=["Ana Diaz"])
    seat = order.seats.get()
    for url in (f"/orders/{order.token}/", f"/seats/{seat.token}/",
                f"/workshops/{order.workshop.slug}/register/?from={order.token}"):
        policy = client.get(url).get("Referrer-Policy", "")
        assert policy in ("same-origin", "no-referrer"), (url, policy)
