"""Load the demo catalog: the affinity-groups workshop on the next May 5th and 19th.

Safe to run any number of times: rows are looked up by natural keys and only
missing ones are created; nothing is duplicated or overwritten.
"""

import zoneinfo
from datetime import date, datetime, time

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from workshops.models import AffinityGroup, PreworkFile, PreworkModule, PriceTier, Session, Workshop
from workshops.services import attach_prework_file

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
SLUG = "using-racial-affinity-groups-in-schools"

SUMMARY = (
    "Experience for yourself what racial affinity work looks, sounds and feels like, and leave ready "
    "to bring racial affinity groups to your school or district."
)
DESCRIPTION = """Conversations about race belong in our classrooms and schools if we mean to work toward antiracism. Not every one of those conversations should happen in racially mixed groups, though. Racial affinity groups bring together people who share a racial identity to learn, reflect, heal, support one another and build relationships.

Most educators we work with have never been in a racial affinity group themselves. They tell us they did not know how powerful these spaces can be, and they ask how to start one without harming Black, Indigenous and other people of colour, and what to do when it goes wrong.

More than 400 educators have taken this introductory workshop over the past two years. It stands on its own, and it is also the first step toward our year-long cohort course, where close to 100 educators are finishing this year's programme."""
OUTCOMES = """Use a research-based framework and other equity resources to understand how racial identity development shapes our beliefs and actions as educators.
Take an active part in a supportive space for healing, reflection, learning and connection.
Experience first-hand why racial affinity groups are an essential strategy for antiracist schools."""
AUDIENCES = """Classroom, school and district leaders, and their teams
Anyone who wants to learn how racial affinity groups can support racial equity work in schools
Anyone committed to critical dialogue, inquiry and reflection about racial equity"""

PREWORK = [
    (
        1,
        "Racial identity development: a framework",
        60,
        """Racial identity development describes how each of us comes to understand what our racial group membership means: to us, to the people around us, and in the institutions where we learn and work. Researchers such as William Cross (on Black racial identity) and Janet Helms (on White racial identity) describe it as a series of shifts rather than a fixed trait. People often move from not noticing race, through moments of encounter and discomfort, towards an identity they have examined and can act from.

For educators this matters twice over. Our own stage shapes what we notice in a classroom, which conversations we avoid, and how we respond when students raise race. And our students are developing their racial identities while we teach them.

Read this summary twice, then open the worksheet and write your answers to its first three questions. Note one moment from your own schooling that the framework helps you understand. You will not be asked to share what you write; bring what you are willing to share to the first live session.""",
        "racial-identity-reflection-worksheet.pdf",
    ),
    (
        2,
        "What racial affinity groups are (and are not)",
        60,
        """No, racial affinity groups are not racist. A racial affinity group brings together people who share a racial identity to learn, reflect, heal, support one another and build relationships. Not every conversation about race should happen in mixed groups: people of colour need spaces where they do not have to explain or defend their experience, and White educators need spaces to examine whiteness without asking colleagues of colour to carry that work.

In schools that use them well, affinity groups sit alongside, not instead of, cross-racial work. They have clear purposes and agreements, trained facilitators, and a plan for bringing learning back to the whole community.

Educators who join our workshops often tell us they never knew how powerful these spaces could be. Their first questions are usually practical: "How do I get these going?" and "What if it goes wrong?" Write down the questions you most want answered in the live sessions, and the one worry you would need settled before starting an affinity group where you work.""",
        "",
    ),
]


# A starting point only: staff replace these with the words their facilitators and community use.
AFFINITY_GROUPS = [
    ("Black", "For people who identify as Black or African American, including Afro-Latine and African immigrant educators."),
    ("Latine/Hispanic", "For people who identify as Latine, Latina, Latino or Hispanic, of any race."),
    ("Asian / Asian American", "For people of East, Southeast or South Asian heritage."),
    ("Indigenous / Native", "For American Indian, Alaska Native, Native Hawaiian, Pacific Islander and other Indigenous educators."),
    ("Middle Eastern / North African", "For people of Middle Eastern or North African (MENA) heritage."),
    ("Multiracial", "For people who identify with more than one racial identity."),
    ("White", "For people who identify as white, to examine whiteness and racism together."),
    ("Not sure yet / talk to a facilitator", "Unsure where you belong, or none of these fits? Start here: a facilitator will talk it through with you."),
]
def reflection_worksheet() -> bytes:
    """A one-page PDF worksheet for the first module, so the demo has a real file to open."""
    import io

    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=letter)
    c.setTitle("Racial identity development: reflection worksheet")
    y = 720
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, y, "Racial identity development: reflection worksheet")
    c.setFont("Helvetica", 11)
    questions = [
        "1. When did you first become aware of your own racial identity? What happened?",
        "2. Which messages about race did you receive at school, and from whom?",
        "3. Think of a moment in your classroom or school when race came up. What did you do?",
        "4. What would you need from a racial affinity space to take part fully?",
        "5. Which question do you most want answered in the live sessions?",
    ]
    for question in questions:
        y -= 40
        c.drawString(72, y, question)
        for _ in range(3):
            y -= 26
            c.line(72, y, 540, y)
    c.showPage()
    c.save()
    return buffer.getvalue()


# Pre-work text shipped by earlier versions of this command, replaced with the content above.
OLD_PLACEHOLDERS = (
    "Read the framework summary and watch the short introductory video.",
    "Read the two case studies from schools that run affinity groups,",
)


def next_workshop_year(now: datetime) -> int:
    """The first year whose May 5th, 4 pm Pacific, is still ahead."""
    year = timezone.localtime(now, PACIFIC).year
    while datetime.combine(date(year, 5, 5), time(16), tzinfo=PACIFIC) <= now:
        year += 1
    return year


def pacific(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime.combine(date(year, month, day), time(hour), tzinfo=PACIFIC)


class Command(BaseCommand):
    help = "Create the demo workshop (and cohort course, when that app provides seed_demo_cohort). Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        year = next_workshop_year(timezone.now())
        workshop, created = Workshop.objects.get_or_create(
            slug=SLUG,
            defaults={
                "title": "Using Racial Affinity Groups in Schools",
                "summary": SUMMARY,
                "description": DESCRIPTION,
                "outcomes": OUTCOMES,
                "audiences": AUDIENCES,
                "prework_hours": 2,
                "live_hours": 4,
                "platform": "Zoom",
                "capacity": 150,
                "time_zone": "America/Los_Angeles",
                "is_published": True,
            },
        )
        made = int(created)
        for number, day in ((1, 5), (2, 19)):
            _, new = Session.objects.get_or_create(
                workshop=workshop,
                title=f"Live session {number}",
                defaults={"starts_at": pacific(year, 5, day, 16), "ends_at": pacific(year, 5, day, 18)},
            )
            made += new
        for position, title, minutes, body, file_name in PREWORK:
            module, new = PreworkModule.objects.get_or_create(
                workshop=workshop, title=title, defaults={"minutes": minutes, "body": body, "position": position}
            )
            made += new
            if module.body.startswith(OLD_PLACEHOLDERS):
                module.body = body
                module.save(update_fields=["body"])
            if file_name and not PreworkFile.objects.filter(module=module).exists():
                attach_prework_file(module=module, name=file_name, content_type="application/pdf", data=reflection_worksheet())
        for min_seats, cents in ((1, 12000), (5, 10000)):
            _, new = PriceTier.objects.get_or_create(
                workshop=workshop, min_seats=min_seats, defaults={"unit_price_cents": cents}
            )
            made += new
        if not workshop.affinity_groups.exists():  # staff's own groups, once edited, are never added to
            for position, (label, description) in enumerate(AFFINITY_GROUPS, start=1):
                AffinityGroup.objects.create(workshop=workshop, label=label, description=description, position=position)
                made += 1
        self.stdout.write(f"Demo workshop: {workshop.title} (May {year}); {made} new row(s).")
        if "seed_demo_cohort" in get_commands():
            call_command("seed_demo_cohort", stdout=self.stdout)
