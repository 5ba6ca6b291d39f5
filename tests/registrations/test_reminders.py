"""`manage.py send_reminders`: pre-work and session reminders, each sent once however often it runs."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from registrations.models import (
    Order,
    OutboundEmail,
    PreworkCompletion,
    ReminderSent,
    Seat,
)
from tests.factories import OrderFactory, WorkshopFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(workshop):
    return OrderFactory(workshop=workshop, seat_count=3, seats=["Ana Diaz", "Ben Okafor"])


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run_command() -> str:
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", stdout=out)
        return out.getvalue()

    return run_command


def sessions(workshop):
    return list(workshop.sessions.order_by("starts_at"))


def finish_prework(seat):
    for module in seat.order.workshop.prework_modules.all():
        PreworkCompletion.objects.get_or_create(seat=seat, module=module)


def recipients(subject_start: str) -> list[str]:
    return sorted(m.to[0] for m in mail.outbox if m.subject.startswith(subject_start))


def test_prework_reminder_goes_to_attendees_with_work_left_three_days_before(run, order, workshop):
    ben = order.seats.get(position=2)
    finish_prework(ben)
    OrderFactory(workshop=workshop, status=Order.Status.PENDING, seats=["Cara Lee"])  # not paid
    first = sessions(workshop)[0]
    with time_machine.travel(first.starts_at - timedelta(days=3, minutes=1)):
        run()
    assert mail.outbox == []
    with time_machine.travel(first.starts_at - timedelta(days=3)):
        run()
    assert recipients("Pre-work") == ["ana@school.example"]
    body = mail.outbox[0].body
    assert "0 of 120 minutes" in body
    assert f"/seats/{order.seats.get(position=1).token}/" in body
    local = first.starts_at.astimezone(workshop.tz)
    assert f"{local:%A, %B} {local.day}, {local.year}, 4:00–6:00 PM Pacific Time ({local.tzname()})" in body


def test_partly_done_prework_still_gets_a_reminder_with_the_progress(run, order, workshop):
    ana = order.seats.get(position=1)
    PreworkCompletion.objects.create(seat=ana, module=workshop.prework_modules.first())
    with time_machine.travel(sessions(workshop)[0].starts_at - timedelta(days=2)):
        run()
    assert "60 of 120 minutes" in mail.outbox[0].body


def test_reminders_go_out_once_however_often_the_command_runs(run, order, workshop):
    first, second = sessions(workshop)
    moments = [first.starts_at - timedelta(days=3) + timedelta(minutes=5 * i) for i in range(4)]
    moments += [first.starts_at - timedelta(hours=24) + timedelta(minutes=5 * i) for i in range(4)]
    moments += [second.starts_at - timedelta(hours=20) + timedelta(minutes=5 * i) for i in range(4)]
    for moment in moments:
        with time_machine.travel(moment):
            run()
    assert recipients("Pre-work") == ["ana@school.example", "ben@school.example"]
    assert recipients("Reminder") == ["ana@school.example"] * 2 + ["ben@school.example"] * 2
    assert len(mail.outbox) == 6
    assert ReminderSent.objects.count() == 6


def test_session_reminders_come_the_day_before_each_session(run, order, workshop):
    first, second = sessions(workshop)
    with time_machine.travel(first.starts_at - timedelta(hours=24, minutes=1)):
        run()
    assert recipients("Reminder") == []
    with time_machine.travel(first.starts_at - timedelta(hours=24)):
        run()
    assert recipients("Reminder") == ["ana@school.example", "ben@school.example"]
    assert all("live session 1" in m.subject for m in mail.outbox if m.subject.startswith("Reminder"))
    with time_machine.travel(second.starts_at - timedelta(hours=3)):
        run()
    reminders = ReminderSent.objects.filter(kind=ReminderSent.Kind.SESSION)
    assert sorted(r.session_id for r in reminders) == [first.pk, first.pk, second.pk, second.pk]


def test_no_reminder_once_a_session_has_started(run, order, workshop):
    first = sessions(workshop)[0]
    with time_machine.travel(first.starts_at + timedelta(minutes=1)):
        run()
    assert mail.outbox == []


def test_refunded_and_unnamed_seats_get_no_reminders(run, order, workshop):
    Seat.objects.filter(pk=order.seats.get(position=2).pk).update(status=Seat.Status.REFUNDED)
    with time_machine.travel(sessions(workshop)[0].starts_at - timedelta(hours=2)):
        run()
    assert {m.to[0] for m in mail.outbox} == {"ana@school.example"}


def test_the_prework_window_follows_the_setting(run, order, workshop, settings):
    settings.PREWORK_REMINDER_DAYS = 7
    with time_machine.travel(sessions(workshop)[0].starts_at - timedelta(days=6)):
        run()
    assert recipients("Pre-work") == ["ana@school.example", "ben@school.example"]


def test_a_new_attendee_after_a_hand_over_gets_their_own_reminders(run, client, order, workshop):
    first = sessions(workshop)[0]
    with time_machine.travel(first.starts_at - timedelta(days=2)):
        run()
        client.post(
            f"/orders/{order.token}/seats/1/",
            {"seat-1-name": "Dana Reyes", "seat-1-email": "dana@lincoln.example", "seat-1-change": "new_person"},
        )
        run()
        run()
    assert recipients("Pre-work") == ["ana@school.example", "ben@school.example", "dana@lincoln.example"]


def test_each_workshop_reminds_only_its_own_attendees(run, order, workshop):
    later = WorkshopFactory()
    later.sessions.update(starts_at=F("starts_at") + timedelta(days=30), ends_at=F("ends_at") + timedelta(days=30))
    OrderFactory(workshop=later, seats=["Eve Adams"])
    with time_machine.travel(sessions(workshop)[0].starts_at - timedelta(hours=1)):
        run()
    assert "eve@school.example" not in {m.to[0] for m in mail.outbox}


def test_command_reports_what_it_queued(run, order, workshop):
    with time_machine.travel(sessions(workshop)[0].starts_at - timedelta(hours=2)):
        assert run().strip() == "Queued 2 pre-work reminder(s) and 2 session reminder(s)."
        assert run().strip() == "Queued 0 pre-work reminder(s) and 0 session reminder(s)."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_never_send_a_reminder_twice():
    workshop = WorkshopFactory()
    names = [f"Person {chr(65 + i)}{chr(65 + j)}" for i in range(5) for j in range(4)]
    for n in range(0, len(names), 5):
        order = OrderFactory(workshop=workshop, seat_count=5)
        for seat, name in zip(order.seats.all(), names[n:n + 5], strict=True):
            Seat.objects.filter(pk=seat.pk).update(attendee_name=name, attendee_email=f"p{n}-{seat.position}@race.example")
    start = threading.Barrier(8)
    errors = []

    def run_once():
        try:
            start.wait()
            call_command("send_reminders", stdout=StringIO())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(workshop.sessions.order_by("starts_at").first().starts_at - timedelta(hours=2)):
        threads = [threading.Thread(target=run_once) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert ReminderSent.objects.count() == 40  # 20 attendees × (pre-work + session 1)
    assert OutboundEmail.objects.filter(key__startswith="reminder:").count() == 40
    assert len(mail.outbox) == 40
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == 40


def test_reminders_admin_lists_what_was_sent(run, order, workshop, staff_client):
    with time_machine.travel(sessions(workshop)[0].starts_at - timedelta(hours=2)):
        run()
    response = staff_client.get("/admin/registrations/remindersent/?q=ana")
    assert response.status_code == 200
    assert response.content.decode().count("ana@school.example") >= 2
    assert "ben@school.example" not in response.content.decode()
