"""Template tags for the staff admin's own templates: the section a screen belongs to, and its name."""

from django import template
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
