"""Session dates and times in words, in the workshop's zone and, where known, the reader's own.

One place decides how a time reads ("Wednesday, May 5, 2027, 4:00–6:00 PM Pacific Time (PDT)"),
so pages, emails, Stripe, invoices, quotes and receipts all say the same thing.
"""

import zoneinfo
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from django.utils import timezone

# Names people use for the zones most attendees are in; any other zone reads as its city.
ZONE_NAMES = {
    "America/Los_Angeles": "Pacific Time",
    "America/Vancouver": "Pacific Time",
    "America/Tijuana": "Pacific Time",
    "America/Denver": "Mountain Time",
    "America/Boise": "Mountain Time",
    "America/Edmonton": "Mountain Time",
    "America/Phoenix": "Arizona time",
    "America/Chicago": "Central Time",
    "America/Winnipeg": "Central Time",
    "America/Mexico_City": "Central Time",
    "America/New_York": "Eastern Time",
    "America/Detroit": "Eastern Time",
    "America/Toronto": "Eastern Time",
    "America/Indiana/Indianapolis": "Eastern Time",
    "America/Kentucky/Louisville": "Eastern Time",
    "America/Halifax": "Atlantic Time",
    "America/Puerto_Rico": "Atlantic Time",
    "America/Anchorage": "Alaska Time",
    "Pacific/Honolulu": "Hawaii Time",
    "Europe/London": "UK time",
    "UTC": "UTC",
}


# Offered first when an attendee chooses their zone: where most attendees are, in US order east to west.
COMMON_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "America/Toronto",
    "Europe/London",
    "UTC",
]


def time_zone_choices() -> list:
    """Choices for a <select>: the common zones by their readable names, then every IANA zone."""
    common = [(zone, f"{ZONE_NAMES[zone]} ({zone.replace('_', ' ')})" if zone != "UTC" else "UTC") for zone in COMMON_ZONES]
    every = sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/")))
    return [("Common time zones", common), ("All time zones", [(zone, zone.replace("_", " ")) for zone in every])]


def known_zone(name: str) -> str:
    """The zone name if it is a real IANA zone, else ""."""
    name = (name or "").strip()
    return name if name and name in zoneinfo.available_timezones() else ""


def zone_name(zone: str) -> str:
    """'Pacific Time', 'Berlin time': how people call a zone, without the abbreviation."""
    return ZONE_NAMES.get(zone) or f"{zone.rsplit('/', 1)[-1].replace('_', ' ')} time"


def zone_label(zone: str, moment: datetime) -> str:
    """'Pacific Time (PDT)', 'Berlin time (CEST)': a readable name and the abbreviation in force."""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(zone))
    name = zone_name(zone)
    abbreviation = local.strftime("%Z")
    if abbreviation and abbreviation.isalpha() and abbreviation != name:
        return f"{name} ({abbreviation})"
    return name


def _clock(moment: datetime) -> str:
    return f"{moment:%-I:%M}"


def time_range(starts_at: datetime, ends_at: datetime, zone: str) -> str:
    """'4:00–6:00 PM', '11:00 AM–1:00 PM' in the zone."""
    tz = zoneinfo.ZoneInfo(zone)
    start, end = timezone.localtime(starts_at, tz), timezone.localtime(ends_at, tz)
    if start.strftime("%p") == end.strftime("%p"):
        return f"{_clock(start)}–{_clock(end)} {end:%p}"
    return f"{_clock(start)} {start:%p}–{_clock(end)} {end:%p}"


def day(moment: datetime, zone: str, *, year: bool = True) -> str:
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(zone))
    return f"{local:%A}, {local:%B} {local.day}, {local.year}" if year else f"{local:%A}, {local:%B} {local.day}"


def session_when(session, zone: str, reader_zone: str = "") -> str:
    """'Wednesday, May 5, 2027, 4:00–6:00 PM Pacific Time (PDT)', then the reader's own time when it differs."""
    text = f"{day(session.starts_at, zone)}, {time_range(session.starts_at, session.ends_at, zone)} {zone_label(zone, session.starts_at)}"
    own = own_time(session, zone, reader_zone)
    return f"{text} (for you: {own})" if own else text


def own_time(session, zone: str, reader_zone: str) -> str:
    """The session in the reader's zone ('7:00–9:00 PM Eastern Time (EDT)', with their day first when it is
    another day than in the workshop's zone), or "" when the reader's zone is unknown or keeps the same clock."""
    reader_zone = known_zone(reader_zone)
    if not reader_zone or _offset(session.starts_at, reader_zone) == _offset(session.starts_at, zone):
        return ""
    own_day = day(session.starts_at, reader_zone, year=False)
    same_day = own_day == day(session.starts_at, zone, year=False)
    return (
        f"{'' if same_day else own_day + ', '}"
        f"{time_range(session.starts_at, session.ends_at, reader_zone)} {zone_label(reader_zone, session.starts_at)}"
    )


def _offset(moment: datetime, zone: str):
    return timezone.localtime(moment, zoneinfo.ZoneInfo(zone)).utcoffset()


def schedule_summary(sessions: list, zone: str, platform: str) -> str:
    """'Live on Zoom: Wednesday, May 5 and Wednesday, May 19, 2027, 4:00–6:00 PM Pacific Time (PDT)'.

    Sessions at the same hours share one time; otherwise each date has its own. Kept per process for the same
    times, zone and platform (what it is made of): checkout start and every workshop page ask for it.
    """
    return _schedule_summary(tuple(_Times(s.starts_at, s.ends_at) for s in sessions), zone, platform)


class _Times(NamedTuple):
    starts_at: datetime
    ends_at: datetime


@lru_cache(maxsize=256)
def _schedule_summary(sessions: tuple[_Times, ...], zone: str, platform: str) -> str:
    if not sessions:
        return f"Live on {platform}: dates to be announced"
    tz = zoneinfo.ZoneInfo(zone)
    ranges = {time_range(s.starts_at, s.ends_at, zone) for s in sessions}
    labels = {zone_label(zone, s.starts_at) for s in sessions}
    years = {timezone.localtime(s.starts_at, tz).year for s in sessions}
    if len(ranges) == 1 and len(labels) == 1 and len(years) == 1:
        days = [day(s.starts_at, zone, year=False) for s in sessions]
        joined = days[0] if len(days) == 1 else ", ".join(days[:-1]) + " and " + days[-1]
        return f"Live on {platform}: {joined}, {years.pop()}, {ranges.pop()} {labels.pop()}"
    return f"Live on {platform}: " + "; ".join(session_when(s, zone) for s in sessions)
