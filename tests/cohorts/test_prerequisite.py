import pytest

from cohorts.models import WaitlistEntry
from cohorts.selectors import attach_prerequisite_met, filter_by_prerequisite
from registrations.models import Attendance, Order
from tests.cohorts.factories import CohortFactory, WaitlistEntryFactory
from tests.factories import OrderFactory, WorkshopFactory

pytestmark = pytest.mark.django_db

MET = "Workshop completed / registered"
NOT_MET = "Workshop not taken yet"


def test_paid_seat_on_the_workshop_meets_the_prerequisite(client, cohort):
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Ana Diaz"])
    entry = WaitlistEntryFactory(cohort=cohort, email="ANA@School.example")
    html = client.get(entry.get_absolute_url()).content.decode()
    assert MET in html
    assert NOT_MET not in html


def test_attendance_meets_the_prerequisite_even_without_a_paid_order(client, cohort):
    workshop = cohort.prerequisite_workshop
    order = OrderFactory(workshop=workshop, seats=["Ana Diaz"], status=Order.Status.CANCELLED, paid_at=None)
    Attendance.objects.create(seat=order.seats.get(), session=workshop.sessions.first())
    entry = WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    assert MET in client.get(entry.get_absolute_url()).content.decode()


def test_unpaid_order_does_not_meet_the_prerequisite_and_links_to_the_workshop(client, cohort):
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Ana Diaz"], status=Order.Status.PENDING, paid_at=None)
    entry = WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    html = client.get(entry.get_absolute_url()).content.decode()
    assert NOT_MET in html
    assert f'<a href="{cohort.prerequisite_workshop.get_absolute_url()}">See the workshop' in html


def test_paid_seat_on_another_workshop_does_not_count(cohort):
    OrderFactory(workshop=WorkshopFactory(), seats=["Ana Diaz"])
    entry = WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    assert WaitlistEntry.objects.get(pk=entry.pk).prerequisite_met is False


def test_cohort_without_prerequisite_is_met_by_everyone(db):
    entry = WaitlistEntryFactory(cohort=CohortFactory(prerequisite_workshop=None))
    assert WaitlistEntry.objects.get(pk=entry.pk).prerequisite_met is True


def test_attach_marks_each_entry_with_one_lookup(cohort, django_assert_num_queries):
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Ana Diaz"])
    WaitlistEntryFactory(cohort=cohort, email="ana@school.example")
    for _ in range(5):
        WaitlistEntryFactory(cohort=cohort)
    entries = list(WaitlistEntry.objects.select_related("cohort"))
    with django_assert_num_queries(1):
        attach_prerequisite_met(entries)
    assert [e.prerequisite_met for e in entries] == [True, False, False, False, False, False]


def test_filter_by_prerequisite_splits_the_waitlist(cohort):
    OrderFactory(workshop=cohort.prerequisite_workshop, seats=["Ana Diaz"])
    ana = WaitlistEntryFactory(cohort=cohort, email="Ana@school.example")
    ben = WaitlistEntryFactory(cohort=cohort, email="ben@school.example")
    entries = WaitlistEntry.objects.all()
    assert list(filter_by_prerequisite(entries, met=True)) == [ana]
    assert list(filter_by_prerequisite(entries, met=False)) == [ben]


def test_a_lead_who_bought_seats_for_the_team_is_told_why_the_workshop_is_not_taken(client, cohort):
    """A lead who paid for the team's seats without taking one was told "we have no registration for it" (found
    clicking through): they are told what they bought and how to name themselves on a seat."""
    OrderFactory(workshop=cohort.prerequisite_workshop, buyer_email="Terry@District.example", seats=["Ana Diaz", "Ben Okafor"])
    entry = WaitlistEntryFactory(cohort=cohort, email="terry@district.example")
    html = client.get(entry.get_absolute_url()).content.decode()
    assert NOT_MET in html and "we have no registration for it" not in html
    assert "You bought seats for it with terry@district.example, but none of them is in your name" in html


def test_a_lead_who_took_a_seat_in_their_own_order_meets_the_prerequisite(client, cohort):
    order = OrderFactory(workshop=cohort.prerequisite_workshop, buyer_email="terry@district.example", seats=["Ana Diaz"])
    order.seats.update(attendee_email="terry@district.example")
    entry = WaitlistEntryFactory(cohort=cohort, email="terry@district.example")
    assert MET in client.get(entry.get_absolute_url()).content.decode()
