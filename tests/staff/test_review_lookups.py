"""Hostile review of issue 15, staff with a narrow role: what a screen hides cannot be read back through the
changelist's query string or a private link shown on another screen. Each test failed before its fix."""

import pytest

from registrations.models import OutboundEmail, Seat
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
SEATS = "/admin/registrations/seat/"


@pytest.fixture
def two_attendees():
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    Seat.objects.filter(order=order, position=1).update(needs_interpreter=True, access_note="Uses a wheelchair")
    return order


@pytest.mark.parametrize("query", ["access_note__icontains=wheelchair", "needs_interpreter__exact=1", "access_note__gt=A"])
def test_finance_cannot_filter_seats_by_the_access_needs_it_may_not_see(role_client, two_attendees, query):
    """Before: admin allows a lookup on any field of the model itself, so ?access_note__icontains=… listed
    exactly the attendees whose note contains a word, letter by letter, for staff who may not see notes."""
    response = role_client("Finance").get(f"{SEATS}?{query}")
    shown = response.content.decode()
    assert response.status_code == 400 or ("Ana Diaz" in shown and "Ben Okafor" in shown)


@pytest.mark.parametrize("role", ["Finance", "Coordinator"])
def test_no_role_reads_an_attendees_private_link_in_the_seat_screens(role_client, two_attendees, role):
    """Before: the seat screen showed the seat's token, the attendee's private link (their page, Zoom link and
    affinity-group choice, which Finance may not see), and the changelist filtered on it (?token__startswith=)."""
    client = role_client(role)
    seat = two_attendees.seats.get(position=1)
    assert seat.token not in client.get(f"{SEATS}{seat.pk}/change/").content.decode()
    response = client.get(f"{SEATS}?token__startswith={seat.token[:3]}")
    assert response.status_code == 400 or "Ben Okafor" in response.content.decode()


def test_a_coordinator_is_not_handed_the_order_page_and_its_money(role_client, two_attendees):
    """Before: the seat screen linked every seat to its order's private page (receipt, payments, the lead's
    powers) for Coordinators, who the role table says never see orders or money."""
    seat = two_attendees.seats.get(position=1)
    html = role_client("Coordinator").get(f"{SEATS}{seat.pk}/change/").content.decode()
    assert two_attendees.token not in html
    assert two_attendees.token in role_client("Finance", "finance2").get(f"{SEATS}{seat.pk}/change/").content.decode()


def test_a_coordinator_cannot_read_a_waitlisted_persons_private_link_back_from_the_waitlist_screen(role_client):
    """Before: ?token__startswith=… on the waitlist screen narrowed the list to one entry per guess, so its private
    link (their page, where they change their email or leave) could be read out in a few hundred requests."""
    from tests.cohorts.factories import WaitlistEntryFactory

    ana, ben = WaitlistEntryFactory(name="Ana Diaz"), WaitlistEntryFactory(name="Ben Okafor")
    response = role_client("Coordinator").get(f"/admin/cohorts/waitlistentry/?token__startswith={ana.token[:3]}")
    assert response.status_code == 400 or ben.name in response.content.decode()


def test_erasing_an_attendee_also_removes_them_from_the_leads_emails_in_the_outbox(role_client, django_capture_on_commit_callbacks):
    """Before: only emails *to* the erased address were deleted; the lead's confirmation in the outbox kept
    listing "Seat 2: Ben Okafor" for as long as the outbox is kept."""
    order = OrderFactory(seat_count=2, buyer_name="Maya Johnson", seats=["Maya Johnson", "Ben Okafor"])
    admin = role_client("Administrator")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/admin/registrations/order/", {"action": "resend_confirmation", "_selected_action": [order.pk]})
    to_lead = OutboundEmail.objects.get(to_address=order.buyer_email)
    assert "Ben Okafor" in to_lead.body
    admin.post("/admin/staff/erasure/add/", {"email": "ben@school.example", "reason": "Asked", "confirmed": "True"})
    to_lead.refresh_from_db()
    for text in (to_lead.body, to_lead.html_body):
        assert "Ben Okafor" not in text and "ben@school.example" not in text.lower()
    assert "Maya Johnson" in to_lead.body  # the lead's own email otherwise stays as sent


def _view_on_site(model, pk) -> str:
    from django.contrib.contenttypes.models import ContentType

    return f"/admin/r/{ContentType.objects.get_for_model(model, for_concrete_model=False).pk}/{pk}/"


@pytest.mark.parametrize("role", ["Finance", "Coordinator", "Facilitator", "Administrator"])
def test_no_role_is_sent_to_an_attendees_page_by_view_on_site(role_client, two_attendees, role):
    """Before: the order screen's seat rows had "View on site", and /admin/r/<type>/<id>/ redirected any staff
    member, for any seat id typed, to that attendee's private page."""
    seat = two_attendees.seats.get(position=1)
    response = role_client(role).get(_view_on_site(Seat, seat.pk))
    assert response.status_code == 404 and seat.token not in response.get("Location", "")


def test_the_roster_rows_do_not_lead_to_an_attendees_page_either(role_client, two_attendees):
    from registrations.models import RosterSeat

    seat = two_attendees.seats.get(position=1)
    assert role_client("Coordinator").get(_view_on_site(RosterSeat, seat.pk)).status_code == 404


def test_the_order_screen_shows_no_view_on_site_link_for_its_seats(role_client, two_attendees):
    html = role_client("Finance").get(f"/admin/registrations/order/{two_attendees.pk}/change/").content.decode()
    seat = two_attendees.seats.get(position=1)
    assert _view_on_site(Seat, seat.pk) not in html and seat.token not in html


def test_view_on_site_for_an_order_only_for_staff_who_may_see_orders(role_client, two_attendees):
    url = _view_on_site(type(two_attendees), two_attendees.pk)
    assert role_client("Finance").get(url)["Location"].endswith(f"/orders/{two_attendees.token}/")
    assert role_client("Coordinator").get(url).status_code == 404


@pytest.mark.parametrize("role", ["Coordinator", "Administrator"])
def test_the_waitlist_screens_never_show_or_open_a_persons_private_link(role_client, role):
    from cohorts.models import WaitlistEntry
    from tests.cohorts.factories import WaitlistEntryFactory

    entry = WaitlistEntryFactory(name="Ana Diaz")
    client = role_client(role)
    assert entry.token not in client.get(f"/admin/cohorts/waitlistentry/{entry.pk}/change/").content.decode()
    assert client.get(_view_on_site(WaitlistEntry, entry.pk)).status_code == 404
