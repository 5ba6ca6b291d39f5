from datetime import date, datetime
from datetime import timezone as dt_timezone

import pytest
import time_machine
from django.core.management import call_command

from cohorts.models import Cohort, CohortTouchPoint
from workshops.models import Workshop

pytestmark = pytest.mark.django_db


def _counts():
    return Cohort.objects.count(), CohortTouchPoint.objects.count()


def test_seed_twice_creates_nothing_twice():
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo_cohort")
    call_command("seed_demo")
    assert _counts() == first == (1, 10)


@time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=dt_timezone.utc), tick=False)
def test_seed_starts_the_august_after_the_workshop_with_ten_undated_touch_points():
    call_command("seed_demo")
    cohort = Cohort.objects.get()
    assert cohort.start_month == date(2027, 8, 1)
    assert cohort.prerequisite_workshop == Workshop.objects.get(slug="using-racial-affinity-groups-in-schools")
    assert (cohort.status, cohort.platform, cohort.is_published) == ("coming_soon", "Zoom", True)
    months = list(cohort.touch_points.order_by("month").values_list("month", "starts_at"))
    assert [m for m, _ in months] == [date(2027, m, 1) for m in range(8, 13)] + [date(2028, m, 1) for m in range(1, 6)]
    assert all(starts_at is None for _, starts_at in months)
    assert len(cohort.outcome_list) == 5 and len(cohort.audience_list) == 2
    assert "not a train-the-trainer" in cohort.description


@time_machine.travel(datetime(2026, 9, 2, 12, tzinfo=dt_timezone.utc), tick=False)
def test_seed_without_the_workshop_starts_next_august_ahead():
    call_command("seed_demo_cohort")
    cohort = Cohort.objects.get()
    assert cohort.start_month == date(2027, 8, 1)
    assert cohort.prerequisite_workshop is None


def test_seeded_cohort_page_and_home_teaser_render(client):
    call_command("seed_demo")
    cohort = Cohort.objects.get()
    page = client.get(cohort.get_absolute_url()).content.decode()
    assert page.count("date to be set") == 10
    assert 'id="cohort-heading"' in client.get("/").content.decode()
