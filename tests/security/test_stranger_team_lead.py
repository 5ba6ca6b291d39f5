"""A stranger's review (issue 15 follow-up): what a team lead can learn about the people on their own order.

Each test is an attack through the public pages, stating the rule it checks. A test marked xfail(strict) is a
leak that works today: the rule is what the README promises, the test fails until the code keeps it.
"""

import pytest
from django.core import mail

from registrations.models import Seat
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

ALICE_NOTE = "Alice: PTSD, please no cold-calling in breakouts"


def _change(client, order, position, name, email, change):
    return client.post(
        f"/orders/{order.token}/seats/{position}/",
        {f"seat-{position}-name": name, f"seat-{position}-email": email, f"seat-{position}-change": change},
    )


def test_a_lead_cannot_read_an_attendees_access_needs_by_correcting_the_seat_to_their_own_address(client):
    """Rule: a team lead never sees an attendee's access needs (README, "Privacy: who sees what")."""
    order = OrderFactory(buyer_email="maya@lincoln.example", buyer_name="Maya Johnson", seat_count=2, buyer_attends=True,
                         seats=["Maya Johnson", "Ben Okafor"])
    Seat.objects.filter(order=order, position=1).update(attendee_email="maya@lincoln.example")
    # The lead gives their own seat to Alice (a new person: the lead's needs are cleared).
    assert _change(client, order, 1, "Alice Park", "alice@lincoln.example", "new_person").status_code == 302
    # Alice writes to staff, who note her access needs on her seat (README: attendees reply, staff update it).
    Seat.objects.filter(order=order, position=1).update(access_note=ALICE_NOTE, needs_interpreter=True)
    # The lead "corrects" seat 1 back to their own address: the needs stay on the seat...
    assert _change(client, order, 1, "Maya Johnson", "maya@lincoln.example", "correct").status_code == 302
    # ...and "register again" fills the lead's form with them.
    html = client.get(f"/workshops/{order.workshop.slug}/register/?from={order.token}").content.decode()
    assert "PTSD" not in html


def test_a_correction_to_the_leads_own_address_takes_no_affinity_choice_or_old_link(client):
    """Rule: correcting a seat to another address gives it a new link; the old holder's link stops everywhere."""
    order = OrderFactory(buyer_email="maya@lincoln.example", seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    ana = order.seats.get(position=1)
    old = ana.token
    assert _change(client, order, 1, "Maya Johnson", "maya@lincoln.example", "correct").status_code == 302
    ana.refresh_from_db()
    assert ana.token != old
    for suffix in ("", "calendar.ics", "sessions/1/calendar.ics", "certificate.pdf"):
        assert client.get(f"/seats/{old}/{suffix}").status_code == 404, suffix
    for suffix in ("affinity/", "time-zone/"):
        assert client.post(f"/seats/{old}/{suffix}", {}).status_code == 404, suffix
    module = order.workshop.prework_modules.first()
    assert client.get(f"/seats/{old}/prework/{module.pk}/").status_code == 404
    assert client.post(f"/seats/{old}/prework/{module.pk}/", {"done": "1"}).status_code == 404


def test_the_notice_to_a_replaced_attendee_names_neither_the_new_person_nor_any_link(client, django_capture_on_commit_callbacks):
    """Rule: the person who had a seat is told their link stopped working, without who has it now."""
    order = OrderFactory(buyer_email="maya@lincoln.example", seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    with django_capture_on_commit_callbacks(execute=True):
        assert _change(client, order, 1, "Carla Reyes", "carla@other.example", "new_person").status_code == 302
    seat = order.seats.get(position=1)
    to_ana = [m for m in mail.outbox if m.to == ["ana@school.example"]]
    assert to_ana, [m.to for m in mail.outbox]
    for message in to_ana:
        text = message.body + "".join(str(a[0]) for a in getattr(message, "alternatives", []))
        assert "Carla" not in text and "carla@other.example" not in text
        assert seat.token not in text and "/seats/" not in text
        assert order.token not in text


def test_an_attendee_page_shows_no_other_seat_nor_the_orders_link_or_money(client):
    """Rule: an attendee sees their own page only: not other seats, not the order's page or money."""
    order = OrderFactory(buyer_email="maya@lincoln.example", seat_count=5, unit_price_cents=10000,
                         seats=["Ana Diaz", "Ben Okafor", "Carla Reyes", "Dev Patel", "Eve Stone"])
    Seat.objects.filter(order=order, position=2).update(access_note="Ben: wheelchair user", needs_captions=True)
    ana, ben = order.seats.get(position=1), order.seats.get(position=2)
    html = client.get(f"/seats/{ana.token}/").content.decode()
    assert "Ben Okafor" not in html and "ben@school.example" not in html and ben.token not in html
    assert "wheelchair" not in html
    assert order.token not in html
    assert "$500" not in html and "500.00" not in html and "$100" not in html


def test_a_lead_resending_a_link_sends_it_only_to_the_attendee(client, django_capture_on_commit_callbacks):
    """Rule: the lead can resend an attendee's link only to that attendee's address, whatever is posted."""
    order = OrderFactory(buyer_email="maya@lincoln.example", seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    ana = order.seats.get(position=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{order.token}/seats/1/resend/",
                               {"email": "maya@lincoln.example", "seat-1-email": "maya@lincoln.example", "to": "maya@lincoln.example"})
    assert response.status_code in (302, 303)
    assert mail.outbox and all(m.to == ["ana@school.example"] for m in mail.outbox if ana.token in m.body)
    assert not any(ana.token in m.body for m in mail.outbox if m.to != ["ana@school.example"])
    assert ana.token not in client.get(response["Location"]).content.decode()
