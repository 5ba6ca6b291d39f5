"""An affinity choice is seen by the attendee, their facilitators and coordinators only: never on the team
lead's order page, in any email but the attendee's own reminder, in the roster or order CSV, or on another
attendee's page; a seat given to someone else loses it; it is deleted after the workshop."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from registrations import emails
from registrations.models import AffinityChoice, BreakoutPlacement, OutboundEmail
from registrations.services.affinity import delete_affinity_data
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.affinity_helpers import add_groups, attendees, choose

pytestmark = pytest.mark.django_db

LABELS = ("Heron Circle", "Kestrel Circle", "Osprey Circle")
ZOOM = ("lead.zoom@private.example", "ben.zoom@private.example", "cara.zoom@private.example")


@pytest.fixture
def team(workshop):
    """The lead attends (seat 1) with Ben and Cara; each chose a different group and gave a Zoom email."""
    groups = add_groups(workshop, LABELS)
    seats = attendees(workshop, ["Lena Lead", "Ben Okafor", "Cara Lee"], buyer_email="lena.lead@school.example")
    for seat, label, zoom in zip(seats, LABELS, ZOOM, strict=True):
        choose(seat, groups[label], zoom_email=zoom)
    return seats


def assert_private(text: str, *, except_index: int | None = None) -> None:
    for i, secret in enumerate(LABELS + ZOOM):
        if except_index is not None and i % 3 == except_index:
            continue
        assert secret not in text, f"{secret!r} leaked"


def test_the_team_leads_order_page_shows_no_ones_group_or_zoom_email(client, team):
    html = client.get(team[0].order.get_absolute_url()).content.decode()
    assert "Ben Okafor" in html  # the page is the real one, listing the seats
    assert_private(html)


def test_the_leads_confirmation_and_the_welcome_emails_carry_no_group(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_order_confirmation(order=team[0].order, resend=True)
    assert len(mail.outbox) == 3  # the lead's confirmation, Ben's and Cara's welcome
    for message in mail.outbox:
        assert_private(message.subject + message.body)


def test_each_session_reminder_names_only_its_own_attendees_group(team, workshop, django_capture_on_commit_callbacks):
    first = workshop.sessions.order_by("starts_at")[0]
    with time_machine.travel(first.starts_at - timedelta(hours=20)), django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", stdout=StringIO())
    reminders = {m.to[0]: m.body for m in mail.outbox if m.subject.startswith("Reminder")}
    assert len(reminders) == 3
    for index, seat in enumerate(team):
        body = reminders[seat.attendee_email]
        assert f"Your affinity group: {LABELS[index]}." in body
        assert_private(body, except_index=index)


def test_another_attendees_page_does_not_show_their_choice(client, team):
    html = client.get(f"/seats/{team[1].token}/").content.decode()
    assert "Your choice: Kestrel Circle" in html
    assert "Heron Circle</label>" in html  # offered as an option, like every group
    for secret in ("Your choice: Heron Circle", "Your choice: Osprey Circle", ZOOM[0], ZOOM[2]):
        assert secret not in html


def test_roster_and_order_csv_exports_carry_no_group_or_zoom_email(staff_client, team):
    seats, order = team, team[0].order
    roster = staff_client.post(
        "/admin/registrations/rosterseat/", {"action": "export_csv", "_selected_action": [s.pk for s in seats]}
    )
    orders = staff_client.post("/admin/registrations/order/", {"action": "export_csv", "_selected_action": [order.pk]})
    for response in (roster, orders):
        text = response.content.decode("utf-8-sig")
        assert order.reference in text
        assert_private(text)


def test_the_seats_admin_page_does_not_show_the_choice(staff_client, team):
    html = staff_client.get(f"/admin/registrations/seat/{team[1].pk}/change/").content.decode()
    assert "Ben Okafor" in html
    assert_private(html)


def test_no_stored_email_anywhere_mentions_a_group_before_reminders(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_order_confirmation(order=team[0].order, resend=True)
    assert OutboundEmail.objects.count() == 3
    for row in OutboundEmail.objects.all():
        assert_private(row.subject + row.body)


def test_giving_a_seat_to_someone_else_deletes_the_previous_persons_choice(client, team, workshop):
    ben = team[1]
    BreakoutPlacement.objects.create(session=workshop.sessions.first(), seat=ben, kind="absent")
    response = client.post(
        f"/orders/{ben.order.token}/seats/{ben.position}/",
        {"seat-2-name": "Dana New", "seat-2-email": "dana@school.example", "seat-2-change": "new_person"},
    )
    assert response.status_code == 302
    assert not AffinityChoice.objects.filter(seat=ben).exists()
    assert not BreakoutPlacement.objects.filter(seat=ben).exists()
    assert AffinityChoice.objects.count() == 2


def test_correcting_a_seats_email_deletes_the_choice_made_through_the_old_link(client, team):
    # The lead chooses "correct" or "new person" freely: a correction to the lead's own address must not
    # hand them the attendee's choice (review of issue 16; tests/registrations/test_affinity_review.py).
    ben = team[1]
    client.post(
        f"/orders/{ben.order.token}/seats/{ben.position}/",
        {"seat-2-name": "Ben Okafor", "seat-2-email": "ben.o@school.example", "seat-2-change": "correct"},
    )
    assert not AffinityChoice.objects.filter(seat=ben).exists()
    assert AffinityChoice.objects.count() == 2


# --- deletion after the workshop -----------------------------------------------------------------------


def run_retention() -> str:
    out = StringIO()
    call_command("delete_affinity_data", stdout=out)
    return out.getvalue()


def test_choices_are_kept_until_the_retention_days_after_the_last_session(team, workshop):
    last = workshop.sessions.order_by("starts_at").last()
    BreakoutPlacement.objects.create(session=last, seat=team[0], kind="absent")
    with time_machine.travel(last.ends_at + timedelta(days=30) - timedelta(minutes=1)):
        run_retention()
    assert AffinityChoice.objects.count() == 3
    with time_machine.travel(last.ends_at + timedelta(days=30)):
        assert "Deleted 4 affinity-group row(s)" in run_retention()
    assert not AffinityChoice.objects.exists() and not BreakoutPlacement.objects.exists()


def test_retention_leaves_other_workshops_alone(team, workshop, settings):
    settings.AFFINITY_RETENTION_DAYS = 1
    later = WorkshopFactory()
    other = attendees(later, ["Olu Other"])[0]
    choose(other, add_groups(later, ["Heron"])["Heron"])
    later.sessions.update(starts_at=later.sessions.first().starts_at + timedelta(days=400), ends_at=later.sessions.first().ends_at + timedelta(days=400))
    last = workshop.sessions.order_by("starts_at").last()
    with time_machine.travel(last.ends_at + timedelta(days=2)):
        run_retention()
    assert list(AffinityChoice.objects.values_list("seat_id", flat=True)) == [other.pk]


def test_delete_affinity_data_for_one_person_leaves_the_rest(team):
    assert delete_affinity_data(seats=[team[1]]) == 1
    assert sorted(AffinityChoice.objects.values_list("seat_id", flat=True)) == [team[0].pk, team[2].pk]


def test_a_group_that_people_chose_cannot_be_deleted_from_under_them(staff_client, team, workshop):
    group = AffinityChoice.objects.get(seat=team[1]).group
    response = staff_client.post(f"/admin/workshops/affinitygroup/{group.pk}/delete/", {"post": "yes"})
    assert response.status_code == 200
    assert "Cannot delete affinity group" in response.content.decode()
    assert_private(response.content.decode().replace("Kestrel Circle", ""))  # names the group only
    assert AffinityChoice.objects.filter(group=group).exists()


def test_orders_placed_for_another_workshop_never_see_these_groups(client, team):
    order = OrderFactory(seats=["Pat Elsewhere"])
    html = client.get(f"/seats/{order.seats.get().token}/").content.decode()
    assert 'id="affinity"' not in html
    assert_private(html)
