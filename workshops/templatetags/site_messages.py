"""Messages a view placed next to the form they answer, and the rest, which base.html shows at the top.

A view places a message with `messages.success(request, text, extra_tags=place)`, where `place` is the id of the
element that shows it, and redirects to `#<place>`: the person lands on the outcome, not on a message scrolled away.
"""

from django import template

register = template.Library()


@register.filter
def placed_at(messages, place: str) -> list:
    """The messages placed in the element with id `place`."""
    return [m for m in messages if m.extra_tags == place] if place else []


@register.filter
def unplaced(messages) -> list:
    """The messages for the top of the page."""
    return [m for m in messages if not m.extra_tags]
