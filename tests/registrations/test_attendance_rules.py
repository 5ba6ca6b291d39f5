"""Attendance is marked only for sessions that have started, and a certificate carries the date it was earned."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from registrations.models import Attendance, Certificate, PreworkCompletion
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.test_certificates import pdf_text

pytestmark = pytest.mark.django_db

ROSTER = "/admin/registrations/rosterseat/"


def mark(client, seats, number: int, *, clear: bool = False):
    action = f"{'clear' if clear else 'mark'}_session_{number}"
    return client.post(ROSTER, {"action": action, "_selected_action": [s.pk for s in seats]}, follow=True)


@pytest.fixture
def team(workshop):
    return OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"])


def sessions(workshop):
    return list(workshop.sessions.order_by("starts_at"))


def test_attendance_for_a_session_that_has_not_started_is_refused(staff_client, team, workshop):
    first, _ = sessions(workshop)
    response = mark(staff_client, team.seats.all(), 1)
    html = response.content.decode()
    assert "attendance can be marked once it has started. Nothing was marked." in html
    assert f"{first.starts_at.astimezone(workshop.tz):%-I:%M %p %Z}" in html  # when it does start, in Pacific
    assert not Attendance.objects.exists()


def test_attendance_can_be_marked_from_the_moment_a_session_starts(staff_client, team, workshop, time_machine):
    first, second = sessions(workshop)
    time_machine.move_to(first.starts_at + timedelta(minutes=5))
    staff_client.force_login(get_user_model().objects.get(username="staff"))
    assert "Marked session 1 attendance for 2 attendee(s)." in mark(staff_client, team.seats.all(), 1).content.decode()
    # Session 2 is two weeks away still.
    assert "Nothing was marked" in mark(staff_client, team.seats.all(), 2).content.decode()
    assert set(Attendance.objects.values_list("session_id", flat=True)) == {first.pk}


def test_the_roster_says_not_yet_for_sessions_still_ahead(staff_client, team, workshop, time_machine):
    first, second = sessions(workshop)
    time_machine.move_to(first.ends_at + timedelta(hours=1))
    staff_client.force_login(get_user_model().objects.get(username="staff"))
    mark(staff_client, team.seats.filter(position=1), 1)
    html = staff_client.get(f"{ROSTER}?order__workshop__id__exact={workshop.pk}").content.decode()
    row = html[html.index("Ana Diaz"):]
    row = row[: row.index("</tr>")]
    assert 'class="field-attended_session_1"><img' in row and 'alt="True"' in row
    assert 'class="field-attended_session_2">not yet<' in row
    # Column headings carry each session's date when one workshop is shown.
    assert f"Session 1<br>{first.starts_at.astimezone(workshop.tz):%b %-d}" in html
    assert f"Session 2<br>{second.starts_at.astimezone(workshop.tz):%b %-d}" in html


def test_clearing_attendance_for_a_later_session_is_allowed(staff_client, team, workshop):
    # A mistaken row (from before this rule, or by hand) can always be taken back.
    Attendance.objects.create(seat=team.seats.get(position=1), session=sessions(workshop)[1])
    assert "Cleared session 2 attendance for 1 attendee(s)." in mark(
        staff_client, team.seats.all(), 2, clear=True
    ).content.decode()
    assert not Attendance.objects.exists()


def test_attendance_records_cannot_be_added_by_hand_in_admin(staff_client):
    assert staff_client.get("/admin/registrations/attendance/add/").status_code == 403


# --- the certificate's date ---------------------------------------------------------------------------


def _complete(client, seat, workshop, time_machine):
    """Pre-work done in April, both sessions attended on the day (marked by staff just after each)."""
    first, second = sessions(workshop)
    time_machine.move_to(first.starts_at - timedelta(days=20))
    for module in workshop.prework_modules.all():
        PreworkCompletion.objects.create(seat=seat, module=module)
    for number, session in ((1, first), (2, second)):
        time_machine.move_to(session.ends_at + timedelta(minutes=10))
        client.force_login(get_user_model().objects.get(username="staff"))
        mark(client, [seat], number)
    return second


def test_a_certificate_downloaded_months_later_is_dated_when_it_was_earned(client, staff_client, team, workshop, time_machine):
    seat = team.seats.get(position=1)
    last = _complete(staff_client, seat, workshop, time_machine)
    time_machine.move_to(last.ends_at + timedelta(days=200))  # downloaded in December
    response = client.get(f"/seats/{seat.token}/certificate.pdf")
    assert response.status_code == 200
    certificate = Certificate.objects.get()
    assert certificate.issued_at == last.ends_at
    ended = last.ends_at.astimezone(workshop.tz)
    assert f"Issued {ended:%B} {ended.day}, {ended.year}" in pdf_text(response.content)


def test_finishing_pre_work_after_the_sessions_dates_the_certificate_then(client, staff_client, team, workshop, time_machine):
    seat = team.seats.get(position=1)
    last = _complete(staff_client, seat, workshop, time_machine)
    late = last.ends_at + timedelta(days=3)
    time_machine.move_to(late)
    PreworkCompletion.objects.filter(seat=seat).first().delete()
    PreworkCompletion.objects.create(seat=seat, module=workshop.prework_modules.first())
    time_machine.move_to(late + timedelta(days=30))
    client.get(f"/seats/{seat.token}/certificate.pdf")
    assert abs(Certificate.objects.get().issued_at - late) < timedelta(seconds=5)


def test_a_reinstated_certificate_keeps_the_date_it_was_earned(client, staff_client, team, workshop, time_machine):
    seat = team.seats.get(position=1)
    last = _complete(staff_client, seat, workshop, time_machine)
    time_machine.move_to(last.ends_at + timedelta(days=1))
    client.get(f"/seats/{seat.token}/certificate.pdf")
    certificate = Certificate.objects.get()
    time_machine.move_to(last.ends_at + timedelta(days=60))
    staff_client.force_login(get_user_model().objects.get(username="staff"))
    for action in ("revoke_certificates", "reinstate_certificates"):
        staff_client.post("/admin/registrations/certificate/", {"action": action, "_selected_action": [certificate.pk]})
    certificate.refresh_from_db()
    assert certificate.revoked_at is None and certificate.issued_at == last.ends_at


class AttendanceTimingProperties(HypothesisTestCase):
    """Whatever staff tick, and whenever: attendance exists only for sessions that had started when it was marked."""

    @hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        steps=st.lists(
            st.tuples(st.integers(min_value=-72, max_value=24 * 20), st.sampled_from([1, 2]), st.booleans()),
            min_size=1, max_size=8,
        )
    )
    def test_attendance_never_precedes_its_session(self, steps):
        workshop = WorkshopFactory()
        order = OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
        user = get_user_model().objects.create_user("prop", "p@example.org", "pw", is_staff=True, is_superuser=True)
        first = workshop.sessions.order_by("starts_at").first()
        for hours, number, clear in steps:
            with time_machine.travel(first.starts_at + timedelta(hours=hours), tick=False):
                self.client.force_login(user)
                mark(self.client, order.seats.all(), number, clear=clear)
        for attendance in Attendance.objects.select_related("session"):
            assert attendance.session.starts_at <= attendance.marked_at
