"""Messages placed beside the form they answer, on the page a post redirects to.

A view calls `placed_redirect(request, messages.SUCCESS, text, "<page>#<place>")`: the message shows only in the
element with id <place> on <page> (templates/includes/_placed_messages.html, which focus.js focuses), and the page
opens there, so the person lands on the outcome rather than on a message scrolled out of view. A message placed on
one page never shows on another page with an element of the same id (another order's seat row, another cohort's
waitlist card); a page that reads the messages before the redirect is followed (another tab, a dropped connection)
keeps it for its own page (workshops/templatetags/site_messages.py).

The message names its page by a digest of the page's path, never the path: an order's or a seat's path holds the
token that opens it, which has no place in a cookie (the messages cookie carries what a message says).
"""

import hashlib

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect

_MARK = "placed"


def page_digest(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()[:16]


def placed_redirect(request: HttpRequest, level: int, text: str, url: str) -> HttpResponseRedirect:
    """Add `text` for the element the fragment of `url` names on the page `url` opens, and redirect there."""
    page, _, place = url.partition("#")
    if not place:
        raise ValueError(f"{url!r} names no place: give it a #fragment")
    messages.add_message(request, level, text, extra_tags=f"{_MARK} {place} {page_digest(page)}")
    return redirect(url)


def address(message) -> tuple[str, str] | None:
    """(place, page digest) for a placed message, None for one shown at the top of the page."""
    parts = (message.extra_tags or "").split()
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == _MARK else None
