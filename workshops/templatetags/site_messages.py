"""Messages a view placed next to the form they answer (workshops/placed_messages.py), and the rest, which base.html
shows at the top of the page."""

from django import template
from django.contrib.messages import get_messages

from workshops.placed_messages import address, page_digest

register = template.Library()


def _storage(context):
    request = context.get("request")
    return (get_messages(request) if request is not None else context.get("messages") or []), request


@register.simple_tag(takes_context=True)
def placed_messages(context, place: str) -> list:
    """The messages placed in the element with id `place` on this page."""
    storage, request = _storage(context)
    if not place or request is None:
        return []
    here = (place, page_digest(request.path))
    return [m for m in storage if address(m) == here]


@register.simple_tag(takes_context=True)
def top_messages(context) -> list:
    """The messages for the top of the page. Those placed on another page are kept for it: reading messages marks
    them all as shown, and one placed elsewhere would otherwise be lost without anyone seeing it."""
    storage, request = _storage(context)
    messages = list(storage)
    if request is not None and not getattr(request, "_placed_messages_kept", False):
        request._placed_messages_kept = True
        this_page = page_digest(request.path)
        for message in messages:
            placed = address(message)
            if placed and placed[1] != this_page:
                storage.add(message.level, message.message, extra_tags=message.extra_tags)
    return [m for m in messages if address(m) is None]
