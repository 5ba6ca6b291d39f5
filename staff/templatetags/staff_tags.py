"""Template tags for the staff admin's own templates: the section a screen belongs to, its name, and a list's
cells labelled with their column for the stacked phone layout."""

import re

from django import template
from django.utils.html import conditional_escape, strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from staff.navigation import PLACEMENTS, section_of, section_url

register = template.Library()


@register.inclusion_tag("staff/includes/_section_crumb.html")
def section_crumb(opts):
    """'Run the workshop' (linked) for a screen's breadcrumbs, in place of the Django app's name."""
    section = section_of(opts.app_label, opts.model_name)
    return {"name": section.name, "url": section_url(section.slug)}


@register.simple_tag
def screen_name(opts) -> str:
    """What staff call a list: 'Roster and attendance', or the model's plural name."""
    label = PLACEMENTS.get(f"{opts.app_label}.{opts.model_name}", (None, None, None))[2]
    return label or capfirst(opts.verbose_name_plural)


_CELL_START = re.compile(r"^<(td|th)\b")
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


@register.filter
def labelled_cells(result, headers) -> list[str]:
    """A change list row's cells, each as a table cell (role="cell", so tables restyled as cards keep their
    semantics in every browser) with data-label="<its column heading>" ("Session 1 May 5"); the tick-box
    column's heading is a checkbox, so its cell gets no label."""
    cells = []
    for cell, header in zip(result, headers, strict=False):
        label = " ".join(strip_tags(_LINE_BREAK.sub(" ", str(header["text"]))).split())
        extra = f' role="cell" data-label="{conditional_escape(label)}"' if label else ' role="cell"'
        cells.append(mark_safe(_CELL_START.sub(lambda start, extra=extra: f"<{start.group(1)}{extra}", str(cell), count=1)))
    return cells
