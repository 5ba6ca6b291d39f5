"""Access needs are deleted ACCESS_NEEDS_RETENTION_DAYS after the workshop's last session (daily command)."""

from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.management import call_command

from registrations.models import Seat
from tests.factories import OrderFactory, WorkshopFactory

pytestmark = pytest.mark.django_db


def _seat_with_needs(workshop):
    order = OrderFactory(workshop=workshop, seats=["Ana Diaz"])
    Seat.objects.filter(order=order).update(needs_captions=True, access_note="Captions, please")
    return order.seats.get()


def _last_end(workshop):
    return workshop.sessions.order_by("-ends_at").first().ends_at


def test_access_needs_go_the_set_number_of_days_after_the_workshop(settings, capsys):
    settings.ACCESS_NEEDS_RETENTION_DAYS = 30
    workshop = WorkshopFactory()
    seat = _seat_with_needs(workshop)
    with time_machine.travel(_last_end(workshop) + timedelta(days=29), tick=False):
        call_command("purge_personal_data")
    seat.refresh_from_db()
    assert seat.needs_captions and seat.access_note
    with time_machine.travel(_last_end(workshop) + timedelta(days=30, minutes=1), tick=False):
        call_command("purge_personal_data")
    seat.refresh_from_db()
    assert (seat.needs_captions, seat.needs_interpreter, seat.access_note) == (False, False, "")
    assert seat.attendee_name == "Ana Diaz"  # only the needs go
    assert "Deleted the access needs of 1 seat(s)." in capsys.readouterr().out


def test_a_later_workshops_needs_stay(settings):
    settings.ACCESS_NEEDS_RETENTION_DAYS = 30
    old, later = WorkshopFactory(), WorkshopFactory()
    later.sessions.update(starts_at=_last_end(old) + timedelta(days=60), ends_at=_last_end(old) + timedelta(days=60, hours=2))
    keep = _seat_with_needs(later)
    _seat_with_needs(old)
    with time_machine.travel(_last_end(old) + timedelta(days=31), tick=False):
        call_command("purge_personal_data")
    keep.refresh_from_db()
    assert keep.access_note == "Captions, please"


def test_the_audit_trail_loses_the_needs_too(settings, role_client):
    settings.ACCESS_NEEDS_RETENTION_DAYS = 1
    workshop = WorkshopFactory()
    seat = _seat_with_needs(workshop)
    role_client("Coordinator").post(f"/admin/registrations/seat/{seat.pk}/change/", {"access_note": "Interpreter"})
    with time_machine.travel(_last_end(workshop) + timedelta(days=2), tick=False):
        call_command("purge_personal_data")
    entry = LogEntry.objects.get(content_type__model="seat")
    assert entry.changes["access_note"] == ["[erased]", "[erased]"]


def test_running_it_twice_changes_nothing_more(settings, capsys):
    settings.ACCESS_NEEDS_RETENTION_DAYS = 0
    workshop = WorkshopFactory()
    _seat_with_needs(workshop)
    with time_machine.travel(_last_end(workshop) + timedelta(days=1), tick=False):
        call_command("purge_personal_data")
        call_command("purge_personal_data")
    assert "Deleted the access needs of 0 seat(s)." in capsys.readouterr().out
