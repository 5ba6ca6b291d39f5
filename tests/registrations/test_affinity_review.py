"""Regressions from the security and privacy review of affinity groups (issue 16): a team lead "correcting"
a seat's email to their own address, reminders naming the group left in the email outbox, and a Zoom email
too long for its column."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from registrations.models import AffinityChoice, BreakoutPlacement, OutboundEmail
from tests.registrations.affinity_helpers import add_groups, attendees, choose, staff_user
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db

ZOOM = "ben.zoom@private.example"


@pytest.fixture
def groups(workshop):
    return add_groups(workshop)


@pytest.fixture
def ben(workshop, groups):
    """Seat 2 of a lead's paid order, named Ben Okafor, who chose Multiracial and gave a Zoom email."""
    seat = attendees(workshop, ["Lena Lead", "Ben Okafor"], buyer_email="lena.lead@school.example")[1]
    choose(seat, groups["Multiracial"], zoom_email=ZOOM)
    return seat


def correct_email(client, seat, email):
    return client.post(
        f"/orders/{seat.order.token}/seats/{seat.position}/",
        {f"seat-{seat.position}-name": seat.attendee_name, f"seat-{seat.position}-email": email,
         f"seat-{seat.position}-change": "correct"},
    )


def send_first_session_reminders(workshop, capture):
    first = workshop.sessions.order_by("starts_at")[0]
    with time_machine.travel(first.starts_at - timedelta(hours=20)), capture(execute=True):
        call_command("send_reminders", stdout=StringIO())


# --- a team lead trying to learn an attendee's group --------------------------------------------------------


def test_a_lead_correcting_a_seats_email_to_their_own_address_does_not_receive_the_attendees_choice(client, ben, workshop):
    BreakoutPlacement.objects.create(session=workshop.sessions.first(), seat=ben, kind="absent")
    assert correct_email(client, ben, "lena.private@home.example").status_code == 302
    ben.refresh_from_db()
    html = client.get(f"/seats/{ben.token}/").content.decode()  # the link the welcome email sent the lead
    assert "Your choice: Multiracial" not in html and ZOOM not in html
    assert not AffinityChoice.objects.filter(seat=ben).exists()
    assert not BreakoutPlacement.objects.filter(seat=ben).exists()


def test_correcting_only_a_seats_name_keeps_the_attendees_choice(client, ben):
    client.post(
        f"/orders/{ben.order.token}/seats/2/",
        {"seat-2-name": "Ben O. Okafor", "seat-2-email": ben.attendee_email, "seat-2-change": "correct"},
    )
    assert AffinityChoice.objects.get(seat=ben).group.label == "Multiracial"


# --- the email outbox ---------------------------------------------------------------------------------------


def test_reminders_naming_the_group_leave_the_outbox_with_the_retention_clean_up(
    ben, workshop, django_capture_on_commit_callbacks
):
    send_first_session_reminders(workshop, django_capture_on_commit_callbacks)
    assert any("Multiracial" in body for body in OutboundEmail.objects.values_list("body", flat=True))
    others = OutboundEmail.objects.exclude(subject__startswith="Reminder:").count()
    with time_machine.travel(workshop.sessions.order_by("starts_at").last().ends_at + timedelta(days=31)):
        call_command("delete_affinity_data", stdout=StringIO())
    for body in OutboundEmail.objects.values_list("body", flat=True):
        assert "Multiracial" not in body and ZOOM not in body
    assert OutboundEmail.objects.count() == others  # only the session reminders went


def test_a_reminder_naming_the_group_leaves_the_outbox_when_the_seat_goes_to_someone_else(
    client, ben, workshop, django_capture_on_commit_callbacks
):
    send_first_session_reminders(workshop, django_capture_on_commit_callbacks)
    client.post(
        f"/orders/{ben.order.token}/seats/2/",
        {"seat-2-name": "Dana New", "seat-2-email": "dana@school.example", "seat-2-change": "new_person"},
    )
    for body in OutboundEmail.objects.values_list("body", flat=True):
        assert "Multiracial" not in body and ZOOM not in body
    assert OutboundEmail.objects.filter(to_address="lena.lead@school.example", subject__startswith="Reminder:").exists()


def test_staff_who_may_read_the_outbox_but_not_the_breakout_plan_do_not_see_a_reminders_group(
    client, django_user_model, ben, workshop, django_capture_on_commit_callbacks
):
    send_first_session_reminders(workshop, django_capture_on_commit_callbacks)
    reminder = OutboundEmail.objects.get(to_address=ben.attendee_email, subject__startswith="Reminder")
    other = OutboundEmail.objects.create(
        key="confirmation:1", to_address="lena.lead@school.example", subject="Registered", body="Hello Lena, see you."
    )
    client.force_login(staff_user(django_user_model, "clerk", "registrations.view_outboundemail"))
    html = client.get(f"/admin/registrations/outboundemail/{reminder.pk}/change/").content.decode()
    assert reminder.subject in html  # the real page
    assert "Multiracial" not in html and ZOOM not in html
    # Other emails keep their body for support.
    assert "Hello Lena, see you." in client.get(f"/admin/registrations/outboundemail/{other.pk}/change/").content.decode()
    client.force_login(staff_user(django_user_model, "cora", "registrations.view_outboundemail", "registrations.view_breakout_plan"))
    assert "Multiracial" in client.get(f"/admin/registrations/outboundemail/{reminder.pk}/change/").content.decode()


# --- bad input ----------------------------------------------------------------------------------------------

TOO_LONG = "a" * 250 + "@example.org"  # valid to Django's EmailValidator (<= 320), too long for the column (254)


def test_a_zoom_email_too_long_to_store_comes_back_beside_the_field_not_a_500(client, ben):
    response = client.post(f"/seats/{ben.token}/affinity/", {"group": "", "zoom_email": TOO_LONG})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_zoom_email_error"' in html and f'value="{TOO_LONG}"' in html
    assert AffinityChoice.objects.get(seat=ben).zoom_email == ZOOM


def test_a_zoom_email_too_long_to_store_at_registration_comes_back_beside_the_field(client, workshop, groups, stripe_double):
    data = registration_data(**{"affinity-group": str(groups["White"].pk), "affinity-zoom_email": TOO_LONG})
    response = client.post(f"/workshops/{workshop.slug}/register/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_affinity-zoom_email_error"' in html and f'value="{TOO_LONG}"' in html
