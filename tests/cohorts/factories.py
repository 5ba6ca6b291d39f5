from datetime import date

import factory

from cohorts.models import Cohort, CohortTouchPoint, WaitlistEntry
from tests.factories import WorkshopFactory


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort
        skip_postgeneration_save = True

    title = "Racial Affinity Groups: Year-Long Cohort"
    slug = factory.Sequence(lambda n: f"year-long-cohort-{n}")
    summary = "A school year of monthly touch points in racial affinity groups."
    description = "Not a train-the-trainer model.\n\nYou practise the work, then facilitate it."
    start_month = date(2031, 8, 1)
    status = Cohort.Status.COMING_SOON
    outcomes = "Launch affinity groups with support\nTroubleshoot common pitfalls"
    audiences = "Classroom teachers, school and district leaders\nLeadership teams"
    prerequisite_workshop = factory.SubFactory(WorkshopFactory)
    is_published = True

    @factory.post_generation
    def touch_points(obj, create, extracted, **kwargs):
        """August to May, dates not set yet (pass touch_points=False for none)."""
        if not create or extracted is False:
            return
        for position, month in enumerate([8, 9, 10, 11, 12, 1, 2, 3, 4, 5], start=1):
            year = obj.start_month.year + (1 if month < 8 else 0)
            CohortTouchPoint.objects.create(
                cohort=obj, title=f"Touch point {position}", month=date(year, month, 1), position=position
            )


class WaitlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WaitlistEntry

    cohort = factory.SubFactory(CohortFactory)
    name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@school.example")
    role = WaitlistEntry.Role.TEACHER
    organisation = "Lincoln Unified School District"
