"""The session reminder tells each attendee their affinity group and planned room, or asks them to choose."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from registrations.models import BreakoutPlacement
from tests.factories import WorkshopFactory
from tests.registrations.affinity_helpers import add_groups, attendees, choose

pytestmark = pytest.mark.django_db


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    def run(workshop, *, before=timedelta(hours=20), number=0) -> dict[str, str]:
        session = workshop.sessions.order_by("starts_at")[number]
        with time_machine.travel(session.starts_at - before), django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", stdout=StringIO())
        return {m.to[0]: m.body for m in mail.outbox if m.subject.startswith("Reminder")}

    return run


def test_the_reminder_names_the_group_and_the_planned_room(remind, workshop):
    workshop.breakout_room_size = 2
    workshop.save()
    white = add_groups(workshop, ["White"])["White"]
    seats = attendees(workshop, ["Ana Diaz", "Ben Okafor", "Cara Lee"])
    for seat in seats:
        choose(seat, white)
    bodies = remind(workshop)
    assert 'Your affinity group: White. Your breakout room is planned as "White 1"' in bodies["ana.diaz@school.example"]
    assert 'planned as "White 2"' in bodies["ben.okafor@school.example"]
    assert 'planned as "White 1"' in bodies["cara.lee@school.example"]
    assert "Sign in to Zoom as cara.lee@school.example so you are placed in it" in bodies["cara.lee@school.example"]


def test_the_reminder_names_the_zoom_account_the_room_is_assigned_to(remind, workshop):
    white = add_groups(workshop, ["White"])["White"]
    choose(attendees(workshop, ["Ana Diaz"])[0], white, zoom_email="ana@zoom-home.example")
    assert "Sign in to Zoom as ana@zoom-home.example so you are placed in it" in remind(workshop)["ana.diaz@school.example"]


def test_the_reminder_follows_a_staff_move(remind, workshop):
    groups = add_groups(workshop, ["Black", "White"])
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    BreakoutPlacement.objects.create(
        session=workshop.sessions.order_by("starts_at")[0], seat=ana, kind="room", group=groups["Black"], room_number=1
    )
    assert 'Your affinity group: Black. Your breakout room is planned as "Black 1"' in remind(workshop)["ana.diaz@school.example"]


def test_the_reminder_asks_someone_who_has_not_chosen_while_choices_are_open(remind, workshop):
    add_groups(workshop)
    ana = attendees(workshop, ["Ana Diaz"])[0]
    body = remind(workshop, before=timedelta(hours=23))
    body = body["ana.diaz@school.example"]
    assert "You have not chosen an affinity group for the breakout rooms. Choosing is optional" in body
    assert f"/seats/{ana.token}/#affinity" in body


def test_after_the_cut_off_the_reminder_points_to_a_facilitator_instead(remind, workshop):
    add_groups(workshop)
    attendees(workshop, ["Ana Diaz"])
    body = remind(workshop, before=timedelta(hours=6))["ana.diaz@school.example"]
    assert "A facilitator will help you find your group at the start of the session." in body
    assert "#affinity" not in body


def test_no_affinity_paragraph_for_a_workshop_without_groups(remind):
    workshop = WorkshopFactory()
    attendees(workshop, ["Ana Diaz"])
    body = remind(workshop)["ana.diaz@school.example"]
    assert "affinity group" not in body and "breakout" not in body


def test_no_affinity_paragraph_for_someone_marked_not_attending(remind, workshop):
    white = add_groups(workshop, ["White"])["White"]
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, white)
    BreakoutPlacement.objects.create(session=workshop.sessions.order_by("starts_at")[0], seat=ana, kind="absent")
    body = remind(workshop)["ana.diaz@school.example"]
    assert "live session 1" in body
    assert "affinity group" not in body and "breakout" not in body
