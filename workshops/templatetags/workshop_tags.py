"""Template filters that format money and times at the edge (`usd`, session times in a zone)."""

import zoneinfo

from django import template
from django.templatetags.tz import do_timezone

from workshops import schedule

register = template.Library()


@register.filter
def usd(cents) -> str:
    """12000 -> "$120.00". The one place money is formatted."""
    if cents in (None, ""):
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    dollars, rem = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rem:02d}"


@register.filter
def in_zone(value, zone_name: str):
    """An aware datetime converted to the named time zone."""
    if not value:
        return value
    # Django's own filter marks the result so |date does not convert it back to UTC.
    return do_timezone(value, zoneinfo.ZoneInfo(zone_name))


@register.filter
def hours_minutes(minutes) -> str:
    minutes = int(minutes or 0)
    hours, rem = divmod(minutes, 60)
    if hours and rem:
        return f"{hours} h {rem} min"
    if hours:
        return f"{hours} h"
    return f"{rem} min"


@register.simple_tag
def session_when(session, zone: str, reader_zone: str = "") -> str:
    """A session's day and hours with a readable zone name, and the reader's own time when known."""
    return schedule.session_when(session, zone, reader_zone)


@register.filter
def zone_name(zone: str) -> str:
    """'Pacific Time': how people call a zone."""
    return schedule.zone_name(zone) if zone else ""


@register.simple_tag
def own_time(session, zone: str, reader_zone: str) -> str:
    """The session in the reader's own zone, or "" when unknown or the same clock as the workshop's."""
    return schedule.own_time(session, zone, reader_zone)


@register.filter
def zone_label(moment, zone: str) -> str:
    """'Pacific Time (PDT)' for a moment in that zone."""
    return schedule.zone_label(zone, moment) if moment else ""


@register.filter
def one_line(text) -> str:
    """What a person typed into a one-line box, as one line (forms clean names with it; emails write older names with
    it): line breaks a text input posted by hand keeps would start a list item or a paragraph of its own in an email."""
    return " ".join(str(text).split())
