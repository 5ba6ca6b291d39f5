import zoneinfo
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cohorts.models import CohortTouchPoint
from tests.cohorts.factories import CohortFactory, WaitlistEntryFactory

pytestmark = pytest.mark.django_db


def test_cohort_page_explains_course_audience_format_and_prerequisite(client, cohort):
    html = client.get(cohort.get_absolute_url()).content.decode()
    assert "<h1" in html and html.count("<h1") == 1
    assert "Not a train-the-trainer model." in html
    assert "<li>Launch affinity groups with support</li>" in html
    assert "<li>Leadership teams</li>" in html
    assert "Monthly touch points on Zoom from August 2031 to May 2032" in html
    assert f'<a href="{cohort.prerequisite_workshop.get_absolute_url()}">' in html
    assert 'name="email"' in html and "Join the waitlist" in html


def test_touch_points_without_a_date_say_date_to_be_set(client, cohort):
    html = client.get(cohort.get_absolute_url()).content.decode()
    assert html.count("date to be set") == 10
    assert "August 2031:</strong>" in html and "May 2032:</strong>" in html


def test_touch_point_with_a_date_shows_it_in_pacific_time(client):
    cohort = CohortFactory(touch_points=False)
    CohortTouchPoint.objects.create(
        cohort=cohort,
        month=datetime(2031, 9, 1).date(),
        starts_at=datetime(2031, 9, 18, 16, tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles")),
    )
    html = client.get(cohort.get_absolute_url()).content.decode()
    assert "Thursday, September 18, 4:00 PM PDT" in html
    assert "date to be set" not in html


def test_unpublished_cohort_is_not_found(client):
    cohort = CohortFactory(is_published=False)
    assert client.get(cohort.get_absolute_url()).status_code == 404


def _queries_for_cohort_page(client, cohort) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(cohort.get_absolute_url())
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_cohort_page_query_count_does_not_grow_with_the_waitlist(client, cohort):
    empty = _queries_for_cohort_page(client, cohort)
    for _ in range(50):
        WaitlistEntryFactory(cohort=cohort)
    assert _queries_for_cohort_page(client, cohort) == empty
    assert empty <= 4


def test_home_page_shows_the_cohort_teaser(client, cohort):
    html = client.get("/").content.decode()
    assert '<h2 id="cohort-heading"><a href="%s">' % cohort.get_absolute_url() in html
    assert "August 2031, monthly on Zoom" in html
    assert "coming soon" in html
    assert f'href="{cohort.get_absolute_url()}#waitlist">Join the waitlist</a>' in html


def test_home_page_skips_closed_and_unpublished_cohorts(client):
    CohortFactory(status="closed", title="Old cohort")
    CohortFactory(is_published=False, title="Draft cohort")
    html = client.get("/").content.decode()
    assert "Old cohort" not in html and "Draft cohort" not in html
    assert 'id="cohort-heading"' in html
