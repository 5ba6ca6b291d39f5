"""Issue 15, findings 4 and 5: a team lead never receives an attendee's private link or access needs."""

import pytest
from django.core import mail

from registrations.models import Order, Seat
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)


def _register_team(client, workshop, **overrides):
    data = registration_data(
        seat_count=3,
        attendees=[("Ana Diaz", "ana@lincoln.example"), ("Ben Okafor", "ben@lincoln.example")],
        needs_interpreter="on",
        access_note="Buyer's own note",
        **overrides,
    )
    data["attendees-0-needs_captions"] = "on"
    data["attendees-0-access_note"] = "Ana: hard of hearing, please caption"
    data["attendees-1-access_note"] = "Ben: wheelchair user"
    response = client.post(f"/workshops/{workshop.slug}/register/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Order.objects.get()


def test_finding_4_register_again_copies_only_the_buyers_own_details(client, stripe_double):
    """Finding 4: `?from=` no longer copies every attendee's access needs into the lead's form."""
    workshop = WorkshopFactory()
    order = _register_team(client, workshop)
    html = client.get(f"/workshops/{workshop.slug}/register/?from={order.token}").content.decode()
    assert "hard of hearing" not in html and "wheelchair" not in html
    assert 'value="Ana Diaz"' not in html and "ana@lincoln.example" not in html
    # The buyer's own details, and their own access needs while the first seat is theirs.
    assert 'value="Maya Johnson"' in html and 'value="maya@lincoln.example"' in html
    assert "Buyer&#x27;s own note" in html
    assert "Only your own details were filled in" in html


def test_register_again_leaves_out_the_first_seats_needs_once_it_belongs_to_someone_else(client):
    order = OrderFactory(buyer_email="maya@lincoln.example", seat_count=1, buyer_attends=True)
    Seat.objects.filter(order=order).update(
        attendee_name="Colleague", attendee_email="colleague@lincoln.example", access_note="Colleague's private note"
    )
    html = client.get(f"/workshops/{order.workshop.slug}/register/?from={order.token}").content.decode()
    assert "private note" not in html and "colleague@lincoln.example" not in html


def test_finding_5_the_leads_confirmation_email_carries_no_attendees_link(client, stripe_double, post_webhook):
    """Finding 5: the lead's confirmation names each attendee but carries only the lead's own seat link."""
    workshop = WorkshopFactory()
    order = _register_team(client, workshop)
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    lead = next(m for m in mail.outbox if m.to == ["maya@lincoln.example"])
    own, ana, ben = order.seats.order_by("position")
    assert "Ana Diaz" in lead.body and "Ben Okafor" in lead.body
    assert f"/seats/{ana.token}/" not in lead.body and f"/seats/{ben.token}/" not in lead.body
    assert f"/seats/{own.token}/" in lead.body  # the lead attends: that seat is theirs
    assert "caption" not in lead.body and "wheelchair" not in lead.body
    # Each attendee's link goes to that attendee alone.
    for seat in (ana, ben):
        [welcome] = [m for m in mail.outbox if f"/seats/{seat.token}/" in m.body]
        assert welcome.to == [seat.attendee_email]


def test_resending_the_confirmation_from_admin_still_carries_no_attendees_link(client, stripe_double, post_webhook, staff_client):
    workshop = WorkshopFactory()
    order = _register_team(client, workshop)
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    mail.outbox.clear()
    staff_client.post("/admin/registrations/order/", {"action": "resend_confirmation", "_selected_action": [order.pk]})
    lead = next(m for m in mail.outbox if m.to == ["maya@lincoln.example"])
    ana = order.seats.get(position=2)
    assert f"/seats/{ana.token}/" not in lead.body


def test_order_page_shows_names_and_progress_never_links_or_access_needs(client):
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    Seat.objects.filter(order=order).update(access_note="Needs captions for every session")
    html = client.get(f"/orders/{order.token}/").content.decode()
    assert "Ana Diaz" in html and "Ben Okafor" in html
    for seat in order.seats.all():
        assert seat.token not in html
    assert "Needs captions" not in html


def test_the_lead_can_send_an_attendee_their_link_again_to_the_attendees_own_address(client):
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"], buyer_email="maya@lincoln.example")
    ana = order.seats.get(position=1)
    response = client.post(f"/orders/{order.token}/seats/1/resend/", follow=True)
    assert "We have emailed Ana Diaz their own link again, at ana@school.example." in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["ana@school.example"]
    assert f"/seats/{ana.token}/" in message.body
    assert ana.token not in response.content.decode()


def test_an_unnamed_or_unpaid_seat_has_no_link_to_send(client):
    unpaid = OrderFactory(seat_count=1, seats=["Ana Diaz"], status=Order.Status.PENDING, paid_at=None)
    client.post(f"/orders/{unpaid.token}/seats/1/resend/")
    unnamed = OrderFactory(seat_count=1)
    response = client.post(f"/orders/{unnamed.token}/seats/1/resend/", follow=True)
    assert "Only a named seat of a paid order has a link to send." in response.content.decode()
    assert mail.outbox == []


def test_resending_an_attendees_link_is_rate_limited_with_a_message(client, settings):
    settings.RATE_LIMITS = {"seat_link_resend": {"per_address": 100, "per_email": 2, "window_seconds": 3600}}
    order = OrderFactory(seat_count=1, seats=["Ana Diaz"])
    for _ in range(2):
        client.post(f"/orders/{order.token}/seats/1/resend/")
    response = client.post(f"/orders/{order.token}/seats/1/resend/", follow=True)
    assert response.status_code == 200
    assert "sent too many times" in response.content.decode()
    assert len(mail.outbox) == 2
