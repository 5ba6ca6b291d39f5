"""Calendar (.ics) files for an attendee's sessions."""

import hashlib
from collections.abc import Iterable
from datetime import UTC
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from workshops.models import Session
from workshops.site import site_url

from .models import Seat


def _uid(seat: Seat, session: Session) -> str:
    """Stable per seat and session, so downloading again updates the entry instead of adding a second one.

    A one-way digest of the seat's token and the session: a forwarded file names no seat or session number
    (which would tell how many have registered) and the token cannot be read back from it. The token is
    renewed when the seat goes to another address or its person is erased, so the next holder's entries
    get new UIDs that do not link them to the previous person's file.
    """
    host = urlsplit(site_url()).hostname or "localhost"
    digest = hashlib.sha256(f"calendar-uid\0{seat.token}\0{session.pk}".encode()).hexdigest()[:32]
    return f"{digest}@{host}"


def seat_calendar(*, seat: Seat, sessions: Iterable[Session]) -> bytes:
    """One VEVENT per session, in UTC.

    The meeting link is never written into the file: the entry points at the attendee's
    page, which shows the link shortly before the session and stops working if the seat
    is given to someone else.
    """
    workshop = seat.order.workshop
    page = f"{site_url()}{seat.get_absolute_url()}"
    cal = Calendar()
    cal.add("prodid", f"-//{settings.SITE_NAME}//Workshop sessions//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    now = timezone.now().astimezone(UTC)
    for session in sessions:
        event = Event()
        event.add("uid", _uid(seat, session))
        event.add("dtstamp", now)
        event.add("dtstart", session.starts_at.astimezone(UTC))
        event.add("dtend", session.ends_at.astimezone(UTC))
        event.add("summary", f"{workshop.title}: {session.title}")
        event.add("location", f"{workshop.platform} (join from your attendee page)")
        event.add(
            "description",
            f"Join from your attendee page, where the {workshop.platform} link appears "
            f"{workshop.session_link_lead_minutes} minutes before the start:\n{page}",
        )
        event.add("url", page)
        cal.add_component(event)
    return cal.to_ical()
