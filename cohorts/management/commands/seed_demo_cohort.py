"""Load the demo year-long cohort course and its monthly touch points.

Safe to run any number of times: rows are looked up by natural keys and only
missing ones are created; nothing is duplicated or overwritten. `seed_demo`
calls this after creating the demo workshop.
"""

import zoneinfo
from datetime import date, datetime

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cohorts.models import DEFAULT_TIME_ZONE, Cohort, CohortTouchPoint
from workshops.models import Workshop

WORKSHOP_SLUG = "using-racial-affinity-groups-in-schools"
SLUG = "racial-affinity-groups-year-long-cohort"
TITLE = "Racial Affinity Groups: Year-Long Cohort"

SUMMARY = (
    "A school year of monthly touch points on Zoom in which you take part in racial affinity groups, "
    "learn to facilitate them, and get support bringing them to your own school or district."
)
DESCRIPTION = """This follow-up course is for educators who have taken our introductory workshop and want to keep going: to learn with others, get ongoing support and coaching, and start racial affinity work where they lead.

It is not a train-the-trainer programme. Instead, you spend the year inside the work: you meet with colleagues in racial affinity groups, find out first-hand what these spaces look, sound and feel like, and take turns facilitating them yourself. That experience is what prepares you to open the same spaces for others when you return to your school or organisation.

Once a month the cohort meets on Zoom. Between sessions you build relationships with like-minded educators facing the same questions. By the end of the year you should be ready to begin, and to sustain, racial affinity work in your own context.

Close to 100 educators are completing this year's course, and more than 400 have taken the introductory workshop over the past two years."""
OUTCOMES = """Get support to launch racial affinity groups in your own setting by first experiencing the work together.
Work through readings, research and other resources that support racial affinity work where you are.
Learn to recognise and work through the common pitfalls and dilemmas that come with leading racial affinity work.
Examine how racial identity connects to student outcomes and to transforming a school.
Plan your next steps for laying the groundwork for racial affinity spaces in your context."""
AUDIENCES = """Classroom teachers, and school and district leaders
Grade-level, school and district leadership teams"""

# August to May: one touch point a month across the school year.
SCHOOL_YEAR_MONTHS = [8, 9, 10, 11, 12, 1, 2, 3, 4, 5]


def start_month_after(moment: datetime | date) -> date:
    """The first August after a moment (the August of the same year when the moment is before August)."""
    return date(moment.year if moment.month < 8 else moment.year + 1, 8, 1)


def demo_start_month(now: datetime) -> date:
    workshop = Workshop.objects.filter(slug=WORKSHOP_SLUG).first()
    first = workshop.sessions.order_by("starts_at").first() if workshop else None
    if first is not None:
        return start_month_after(timezone.localtime(first.starts_at, workshop.tz))
    return start_month_after(timezone.localtime(now, zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)))


class Command(BaseCommand):
    help = "Create the demo year-long cohort course after the demo workshop. Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        start = demo_start_month(timezone.now())
        cohort, created = Cohort.objects.get_or_create(
            slug=SLUG,
            defaults={
                "title": TITLE,
                "summary": SUMMARY,
                "description": DESCRIPTION,
                "start_month": start,
                "status": Cohort.Status.COMING_SOON,
                "platform": "Zoom",
                "time_zone": DEFAULT_TIME_ZONE,
                "outcomes": OUTCOMES,
                "audiences": AUDIENCES,
                "prerequisite_workshop": Workshop.objects.filter(slug=WORKSHOP_SLUG).first(),
                "is_published": True,
            },
        )
        made = int(created)
        first = cohort.start_month
        for position, month in enumerate(SCHOOL_YEAR_MONTHS, start=1):
            year = first.year if month >= first.month else first.year + 1
            _, new = CohortTouchPoint.objects.get_or_create(
                cohort=cohort,
                month=date(year, month, 1),
                defaults={"title": f"Touch point {position}", "position": position, "starts_at": None},
            )
            made += new
        self.stdout.write(f"Demo cohort: {cohort.title} (starts {cohort.start_month:%B %Y}); {made} new row(s).")
