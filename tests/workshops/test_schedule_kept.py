"""The schedule line (dates, hours, zone) is kept per process for the same sessions, zone and platform: it always
reads what the workshop's sessions say now."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from workshops.models import Session
from workshops.schedule import _schedule_summary, schedule_summary

ZONES = ["America/Los_Angeles", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC"]
STARTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(
    starts=st.lists(STARTS, min_size=0, max_size=3),
    hours=st.integers(1, 4),
    zone=st.sampled_from(ZONES),
    platform=st.sampled_from(["Zoom", "Teams"]),
    shown_in=st.sampled_from(ZONES),
)
def test_the_kept_line_is_the_line_worked_out_afresh(starts, hours, zone, platform, shown_in):
    """Asked again, with the same moments written in another zone, it answers what working it out anew answers."""
    sessions = [Session(starts_at=s, ends_at=s + timedelta(hours=hours)) for s in sorted(starts)]
    kept = schedule_summary(sessions, zone, platform)
    same_moments = [
        Session(starts_at=s.starts_at.astimezone(ZoneInfo(shown_in)), ends_at=s.ends_at.astimezone(ZoneInfo(shown_in)))
        for s in sessions
    ]
    assert schedule_summary(same_moments, zone, platform) == kept
    _schedule_summary.cache_clear()
    assert schedule_summary(same_moments, zone, platform) == kept


def _register_page(client, workshop) -> str:
    return client.get(f"/workshops/{workshop.slug}/register/").content.decode()


def test_the_registration_page_shows_a_session_moved_by_staff(client, workshop):
    before = workshop.schedule
    assert before in _register_page(client, workshop)
    session = workshop.sessions.order_by("starts_at").last()
    session.starts_at += timedelta(hours=1)
    session.ends_at += timedelta(hours=1)
    session.save()
    page = _register_page(client, workshop)
    workshop.refresh_from_db()
    assert workshop.schedule != before and workshop.schedule in page and before not in page


def test_the_registration_page_shows_the_zone_staff_chose(client, workshop):
    before = _register_page(client, workshop)
    workshop.time_zone = "America/New_York" if workshop.time_zone != "America/New_York" else "America/Chicago"
    workshop.save()
    page = _register_page(client, workshop)
    assert "Eastern Time" in page or "Central Time" in page
    assert page != before
