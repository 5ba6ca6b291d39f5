"""Fill a fresh database with what the site looks like in the middle of a registration rush.

    python bench/fill_rush.py          (DJANGO_SETTINGS_MODULE and DATABASE_URL from the environment)

- the demo workshop (from `manage.py seed_demo`), open, with 2,000 paid orders holding 5,000 seats
  (individuals, small groups and school teams), plus expired, cancelled and live-hold orders;
- 10 past workshops, each with its sessions, pre-work, prices and a history of paid orders;
- the year-long cohort (from seed_demo when the cohorts app seeds one) with 3,000 waitlist entries.

Deterministic (fixed random seed) and bulk-inserted, so it takes seconds. Run it once on an empty,
migrated database; it refuses to add a second rush on top of the first.
"""

import os
import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from registrations.models import Order, Payment, Seat  # noqa: E402
from workshops.models import PreworkModule, PriceTier, Session, Workshop  # noqa: E402

RUSH_SLUG = "using-racial-affinity-groups-in-schools"
PAID_ORDERS = 2_000
PAID_SEATS = 5_000
RUSH_CAPACITY = 6_000
PAST_WORKSHOPS = 10
PAST_ORDERS_EACH = 40
WAITLIST_ENTRIES = 3_000
BATCH = 1_000

FIRST = ["Maya", "Jordan", "Aisha", "Luis", "Mei", "Samuel", "Fatima", "Diego", "Hannah", "Kwame", "Priya", "Noah",
         "Amara", "Elena", "Tariq", "Grace", "Mateo", "Leila", "Owen", "Yuki", "Zainab", "Caleb", "Rosa", "Imani"]
LAST = ["Johnson", "Nguyen", "Okafor", "Garcia", "Chen", "Williams", "Haddad", "Lopez", "Kim", "Mensah", "Patel",
        "Brown", "Silva", "Rossi", "Ahmed", "Walker", "Cruz", "Park", "Davis", "Tanaka", "Diallo", "Reyes"]
ORGS = ["Lincoln Unified School District", "Roosevelt Middle School", "Cesar Chavez Elementary", "Oakland Tech High",
        "Eastside Community Schools", "Harbor View Academy", "Maple Grove District Office", "Sunset K-8",
        "Riverside Charter Network", "Jefferson High School", "Del Norte Unified", "Bayview Elementary"]

rng = random.Random(7)


def person(n: int) -> tuple[str, str]:
    first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
    return f"{first} {last}", f"{first}.{last}.{n}@school.example".lower()


def seat_sizes(orders: int, seats: int) -> list[int]:
    """Mostly individuals, some small groups, a few school teams; adds up to exactly `seats`."""
    sizes = [rng.choice((1, 1, 1, 1, 1, 1, 2, 3, 5, 8, 12)) for _ in range(orders)]
    total = sum(sizes)
    while total != seats:
        j = rng.randrange(orders)
        if total < seats and sizes[j] < 20:
            sizes[j] += 1
            total += 1
        elif total > seats and sizes[j] > 1:
            sizes[j] -= 1
            total -= 1
    rng.shuffle(sizes)
    return sizes


def make_orders(workshop: Workshop, sizes: list[int], *, status: str, start: int, now, named_share: float) -> int:
    """Bulk-create orders with their seats; returns the next free person number."""
    n = start
    for chunk_start in range(0, len(sizes), BATCH):
        chunk = sizes[chunk_start:chunk_start + BATCH]
        orders = []
        for size in chunk:
            name, email = person(n)
            n += 1
            unit = 10_000 if size >= 5 else 12_000
            paid = status == Order.Status.PAID
            orders.append(
                Order(
                    workshop=workshop,
                    buyer_name=name,
                    buyer_email=email,
                    organisation=rng.choice(ORGS),
                    role=rng.choice(Order.Role.values),
                    buyer_attends=size == 1 or rng.random() < 0.5,
                    seat_count=size,
                    unit_price_cents=unit,
                    total_cents=unit * size,
                    tier_min_seats=5 if size >= 5 else 1,
                    status=status,
                    hold_expires_at=now + timedelta(minutes=31) if status == Order.Status.PENDING
                    else now - timedelta(days=rng.randint(1, 40)),
                    checkout_attempts=1,
                    stripe_checkout_session_id=f"cs_test_rush_{n}",
                    stripe_payment_intent_id=f"pi_rush_{n}" if paid else "",
                    paid_at=now - timedelta(days=rng.randint(1, 40)) if paid else None,
                    closed_at=None if paid or status == Order.Status.PENDING else now - timedelta(days=1),
                    confirmation_sent_at=now if paid else None,
                )
            )
        Order.objects.bulk_create(orders)
        # Paid orders have their payment in the ledger, as the site records it.
        Payment.objects.bulk_create(
            Payment(order=order, amount_cents=order.total_cents, currency="usd", source=Payment.Source.CHECKOUT,
                    stripe_payment_intent_id=order.stripe_payment_intent_id,
                    stripe_checkout_session_id=order.stripe_checkout_session_id, received_at=order.paid_at)
            for order in orders if order.status == Order.Status.PAID
        )
        seats = []
        for order in orders:
            for position in range(1, order.seat_count + 1):
                if position == 1 and order.buyer_attends:
                    attendee, email = order.buyer_name, order.buyer_email
                elif rng.random() < named_share:
                    attendee, email = person(n)
                    n += 1
                else:
                    attendee, email = "", ""
                seats.append(Seat(order=order, position=position, attendee_name=attendee, attendee_email=email))
        Seat.objects.bulk_create(seats, batch_size=BATCH)
    return n


def make_past_workshops(now, start: int) -> int:
    n = start
    for i in range(PAST_WORKSHOPS):
        begins = now - timedelta(days=60 * (i + 1))
        workshop = Workshop.objects.create(
            title="Using Racial Affinity Groups in Schools",
            slug=f"affinity-groups-past-{i + 1}",
            summary="Experience racial affinity work first-hand, then bring it to your school.",
            description="An earlier run of the introductory workshop.\n\nIt stands on its own and leads to the cohort.",
            outcomes="Understand racial identity development\nTake part in affinity groups\nPlan next steps",
            audiences="School and district leaders\nClassroom teachers",
            capacity=150,
            is_published=True,
        )
        for number, offset in ((1, 0), (2, 14)):
            s = begins + timedelta(days=offset)
            Session.objects.create(workshop=workshop, title=f"Live session {number}", starts_at=s,
                                   ends_at=s + timedelta(hours=2))
        PreworkModule.objects.create(workshop=workshop, title="Framework reading", minutes=60, position=1)
        PreworkModule.objects.create(workshop=workshop, title="Case studies", minutes=60, position=2)
        PriceTier.objects.create(workshop=workshop, min_seats=1, unit_price_cents=12000)
        PriceTier.objects.create(workshop=workshop, min_seats=5, unit_price_cents=10000)
        n = make_orders(workshop, seat_sizes(PAST_ORDERS_EACH, PAST_ORDERS_EACH * 2), status=Order.Status.PAID,
                        start=n, now=now, named_share=1.0)
    return n


def cohort_tables_exist() -> bool:
    if not apps.is_installed("cohorts"):
        return False
    try:
        WaitlistEntry = apps.get_model("cohorts", "WaitlistEntry")
    except LookupError:
        return False
    return WaitlistEntry._meta.db_table in connection.introspection.table_names()


def fields_of(model) -> set[str]:
    return {f.name for f in model._meta.get_fields()}


def make_cohort_and_waitlist(rush: Workshop, now, paid_emails: list[str]) -> str:
    Cohort = apps.get_model("cohorts", "Cohort")
    WaitlistEntry = apps.get_model("cohorts", "WaitlistEntry")
    cohort = Cohort.objects.filter(is_published=True).order_by("pk").first()
    if cohort is None:
        start_month = (timezone.localdate() + timedelta(days=240)).replace(day=1)
        cohort = Cohort.objects.create(
            title="Racial Affinity Groups: the Year-long Cohort",
            slug="year-long-cohort",
            summary="A year of monthly touch points on Zoom to practise and lead racial affinity work.",
            description="Monthly touch points, starting in August.\n\nRegistration is coming soon; join the waitlist.",
            start_month=start_month,
            outcomes="Facilitate affinity groups\nSustain the work over a school year",
            audiences="Educators who took the introductory workshop",
            prerequisite_workshop=rush,
            is_published=True,
        )
    entry_fields = fields_of(WaitlistEntry)
    statuses = [WaitlistEntry.Status.WAITING] * 16 + [WaitlistEntry.Status.INVITED] * 3 + [WaitlistEntry.Status.WITHDRAWN]
    entries = []
    for i in range(WAITLIST_ENTRIES):
        # About a third of them already took the workshop: their email holds a paid seat.
        if i % 3 == 0 and i // 3 < len(paid_emails):
            email = paid_emails[i // 3]
            name = email.split("@")[0].replace(".", " ").title()
        else:
            name, email = person(900_000 + i)
        is_team = rng.random() < 0.15
        data = {
            "cohort": cohort,
            "name": name,
            "email": email,
            "role": rng.choice(WaitlistEntry.Role.values),
            "organisation": rng.choice(ORGS),
            "kind": WaitlistEntry.Kind.TEAM if is_team else WaitlistEntry.Kind.INDIVIDUAL,
            "team_size": rng.randint(2, 12) if is_team else 1,
            "status": rng.choice(statuses),
            "joined_at": now - timedelta(minutes=WAITLIST_ENTRIES - i),
        }
        entries.append(WaitlistEntry(**{k: v for k, v in data.items() if k in entry_fields}))
    WaitlistEntry.objects.bulk_create(entries, batch_size=BATCH)
    if "status_changes" in entry_fields:
        # The join itself, as the waitlist service records it.
        Change = WaitlistEntry._meta.get_field("status_changes").related_model
        created = WaitlistEntry.objects.filter(cohort=cohort).values_list("pk", "status", "joined_at")
        Change.objects.bulk_create(
            [Change(entry_id=pk, from_status="", to_status=status, changed_at=joined) for pk, status, joined in created],
            batch_size=BATCH,
        )
    return cohort.slug


def main() -> None:
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    now = timezone.now()
    rush = Workshop.objects.get(slug=RUSH_SLUG)
    if rush.orders.exists():
        sys.exit("This database already holds a rush; bench/run.sh starts from a fresh one.")
    with transaction.atomic():
        Workshop.objects.filter(pk=rush.pk).update(capacity=RUSH_CAPACITY)
        n = make_orders(rush, seat_sizes(PAID_ORDERS, PAID_SEATS), status=Order.Status.PAID, start=0, now=now,
                        named_share=0.7)
        # What else a rush leaves behind: lapsed and abandoned checkouts, and a few live holds.
        n = make_orders(rush, seat_sizes(300, 420), status=Order.Status.EXPIRED, start=n, now=now, named_share=0.2)
        n = make_orders(rush, seat_sizes(80, 100), status=Order.Status.CANCELLED, start=n, now=now, named_share=0.2)
        n = make_orders(rush, seat_sizes(40, 50), status=Order.Status.PENDING, start=n, now=now, named_share=0.2)
        n = make_past_workshops(now, n)
        cohort_slug = ""
        if cohort_tables_exist():
            paid_emails = list(
                Seat.objects.filter(order__workshop=rush, order__status=Order.Status.PAID)
                .exclude(attendee_email="").values_list("attendee_email", flat=True).order_by("pk")[:1000]
            )
            cohort_slug = make_cohort_and_waitlist(rush, now, paid_emails)
    if connection.vendor == "postgresql":
        # What autovacuum would have done on a live database: planner statistics, and the visibility
        # map that lets the seat count read its covering index alone (order_seats_taken_idx).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    paid = rush.orders.filter(status=Order.Status.PAID)
    print(
        f"rush workshop /workshops/{rush.slug}/: {paid.count()} paid orders, "
        f"{Seat.objects.filter(order__in=paid).count()} paid seats, capacity {RUSH_CAPACITY}; "
        f"{Workshop.objects.count() - 1} other workshops; {Order.objects.count()} orders and "
        f"{Seat.objects.count()} seats in all; "
        + (f"cohort /cohorts/{cohort_slug}/ with {WAITLIST_ENTRIES} waitlist entries" if cohort_slug
           else "no cohort tables yet: waitlist skipped")
    )


if __name__ == "__main__":
    main()
