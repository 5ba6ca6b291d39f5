"""Query budgets under rush-like data: what one request may cost, whatever the number of rows.

The pages an anonymous visitor opens during a rush stay within 4 SQL queries, checkout start within 15,
the payment webhook within 17, and the staff changelists cost the same at N and 3N rows.
Budgets are checked on the freshly rendered page (the public page cache is off in tests).
"""

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorts.models import Cohort, CohortTouchPoint, WaitlistEntry
from registrations.models import Order, Seat, StripeEvent
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data
from workshops.models import Session

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
PAGE_BUDGET = 4
CHECKOUT_BUDGET = 15
# 15 before the payment ledger; checking the payment against the session the site created and writing its
# ledger row are one query each; looking for a refund or dispute event that arrived before its payment (Stripe does
# not deliver in order) is one more.
WEBHOOK_BUDGET = 18
# Production's task backend: the confirmation email is a row written in the payment transaction.
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}


def add_paid_orders(workshop, *, orders: int, seats: int, start: int = 0) -> None:
    """`orders` paid orders holding `seats` seats in all (individuals and teams), bulk-inserted."""
    sizes = [1] * orders
    extra, i = seats - orders, 0
    while extra > 0:
        step = min(extra, 9)
        sizes[i % orders] += step
        extra -= step
        i += 1
    now = timezone.now()
    created = Order.objects.bulk_create(
        Order(
            workshop=workshop,
            buyer_name=f"Buyer {start + n}",
            buyer_email=f"buyer{start + n}@school.example",
            organisation="Lincoln Unified School District",
            role=Order.Role.TEACHER,
            seat_count=size,
            unit_price_cents=12000 if size < 5 else 10000,
            total_cents=(12000 if size < 5 else 10000) * size,
            tier_min_seats=1 if size < 5 else 5,
            status=Order.Status.PAID,
            hold_expires_at=now - timedelta(days=1),
            paid_at=now - timedelta(days=1),
            stripe_checkout_session_id=f"cs_test_budget_{start + n}",
            stripe_payment_intent_id=f"pi_budget_{start + n}",
        )
        for n, size in enumerate(sizes)
    )
    Seat.objects.bulk_create(
        Seat(
            order=order,
            position=position,
            attendee_name=f"Attendee {order.pk}-{position}",
            attendee_email=f"attendee{order.pk}.{position}@school.example",
        )
        for order in created
        for position in range(1, order.seat_count + 1)
    )


def add_waitlist(cohort, *, entries: int, start: int = 0) -> None:
    now = timezone.now()
    WaitlistEntry.objects.bulk_create(
        WaitlistEntry(
            cohort=cohort,
            name=f"Waiting {n}",
            # Every third one took the workshop, so prerequisite lookups have matches to find.
            email=f"attendee{n}.1@school.example" if n % 3 == 0 else f"waiting{n}@school.example",
            role=WaitlistEntry.Role.TEACHER,
            organisation="Roosevelt Middle School",
            kind=WaitlistEntry.Kind.TEAM if n % 7 == 0 else WaitlistEntry.Kind.INDIVIDUAL,
            team_size=4 if n % 7 == 0 else 1,
            joined_at=now - timedelta(minutes=entries + start - n),
        )
        for n in range(start, start + entries)
    )


@pytest.fixture
def rush(db):
    """The open workshop with 200 paid orders / 500 seats, 3 other workshops, a cohort with 300 waiting."""
    workshop = WorkshopFactory(capacity=1000)
    for later in range(1, 4):
        # Later runs of the workshop: on the home page, listed after the open one.
        Session.objects.filter(workshop=WorkshopFactory()).update(
            starts_at=F("starts_at") + timedelta(days=30 * later), ends_at=F("ends_at") + timedelta(days=30 * later)
        )
    add_paid_orders(workshop, orders=200, seats=500)
    cohort = Cohort.objects.create(
        title="The year-long cohort",
        slug="year-long-cohort",
        summary="Monthly touch points on Zoom.",
        description="A year of practice.\n\nStarts in August.",
        start_month=date(timezone.now().year + 1, 8, 1),
        outcomes="Facilitate affinity groups\nSustain the work",
        audiences="Workshop alumni",
        prerequisite_workshop=workshop,
        is_published=True,
    )
    for month in range(3):
        CohortTouchPoint.objects.create(
            cohort=cohort,
            month=date(timezone.now().year + 1, 8 + month, 1),
            starts_at=datetime(timezone.now().year + 1, 8 + month, 10, 16, tzinfo=PACIFIC),
            position=month,
        )
    add_waitlist(cohort, entries=300)
    return workshop, cohort


def page_urls(workshop, cohort) -> dict[str, str]:
    return {
        "home": "/",
        "workshop": f"/workshops/{workshop.slug}/",
        "register": f"/workshops/{workshop.slug}/register/",
        "cohort": f"/cohorts/{cohort.slug}/",
    }


def sql(ctx) -> str:
    return "\n".join(q["sql"] for q in ctx.captured_queries)


@pytest.mark.parametrize("page", ["home", "workshop", "register", "cohort"])
def test_public_page_costs_at_most_four_queries_under_a_rush(client, rush, page):
    workshop, cohort = rush
    with CaptureQueriesContext(connection) as first:
        client.get(page_urls(workshop, cohort)[page])
    # The first time, the process also reads the workshops' sessions, prices and affinity groups (workshops/catalog.py).
    assert len(first) <= PAGE_BUDGET + 3, f"{len(first)} queries:\n{sql(first)}"
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(page_urls(workshop, cohort)[page])
    assert response.status_code == 200
    assert len(ctx) <= PAGE_BUDGET, f"{len(ctx)} queries:\n{sql(ctx)}"
    # The page is the real one, computed from the rush: 1000 seats, 500 of them paid.
    expected = cohort.title if page == "cohort" else "500 seats left"
    assert expected in response.content.decode()


def test_public_page_query_count_does_not_grow_with_orders(client, rush):
    workshop, cohort = rush
    urls = page_urls(workshop, cohort)

    def counts() -> dict[str, int]:
        result = {}
        for page, url in urls.items():
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            result[page] = len(ctx)
        return result

    counts()  # the process reads the workshops' sessions, prices and groups once (workshops/catalog.py)
    before = counts()
    add_paid_orders(workshop, orders=400, seats=400, start=10_000)
    add_waitlist(cohort, entries=600, start=10_000)
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_checkout_start_costs_at_most_fifteen_queries(client, rush, stripe_double):
    workshop, _ = rush
    data = registration_data(seat_count=3, attendees=[("Ana Lopez", "ana@school.example")])
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/workshops/{workshop.slug}/register/", data)
    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.test/")
    assert len(ctx) <= CHECKOUT_BUDGET, f"{len(ctx)} queries:\n{sql(ctx)}"
    order = Order.objects.get(buyer_email="maya@lincoln.example")
    assert order.status == Order.Status.PENDING and order.seats.count() == 3


@pytest.mark.django_db(transaction=True)
def test_checkout_start_commits_twice(client, rush, stripe_double):
    """Each commit waits for the write-ahead log to reach the disk: one for the hold, one for the
    Checkout Session (its payment request and its id on the order together)."""
    workshop, _ = rush
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=1))
    assert response.status_code == 302
    transactions, inside = 0, False
    for query in ctx.captured_queries:
        statement = query["sql"].strip().upper()
        if statement == "BEGIN":
            inside = True
        elif statement == "COMMIT":
            transactions, inside = transactions + 1, False
        elif _writes(statement) and not inside:
            transactions += 1  # a write on its own commits on its own
    assert transactions == 2, sql(ctx)


def _writes(statement: str) -> bool:
    """INSERT, UPDATE or DELETE, also as a data-modifying WITH (PostgreSQL's checkout start writes that way)."""
    return statement.startswith(("INSERT", "UPDATE", "DELETE")) or (
        statement.startswith("WITH") and any(f"{verb} " in statement for verb in ("INSERT", "UPDATE", "DELETE"))
    )


@pytest.mark.django_db
def test_the_already_registered_check_can_use_the_email_index(rush, db_vendor):
    """Every checkout start looks for an order the same email already has, whatever its case; PostgreSQL
    can answer it from order_buyer_email_ci_idx instead of reading every order."""
    if db_vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    workshop, _ = rush
    from registrations.selectors.order_pages import existing_order_for

    with CaptureQueriesContext(connection) as ctx:
        existing_order_for(workshop_id=workshop.pk, email="Maya@Lincoln.example")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + ctx.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "order_buyer_email_ci_idx" in plan, plan


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DATABASE_TASKS)
@pytest.mark.parametrize("seat_count", [1, 6])
def test_completed_session_webhook_costs_at_most_eighteen_queries(client, rush, stripe_double, post_webhook, seat_count):
    workshop, _ = rush
    attendees = [(f"Attendee {n}", f"attendee{n}@team.example") for n in range(1, seat_count)]
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=seat_count, attendees=attendees))
    order = Order.objects.get(buyer_email="maya@lincoln.example")
    session = stripe_double.pay(order.stripe_checkout_session_id)
    with CaptureQueriesContext(connection) as ctx:
        response = post_webhook("checkout.session.completed", session)
    assert response.status_code == 200
    assert len(ctx) <= WEBHOOK_BUDGET, f"{len(ctx)} queries:\n{sql(ctx)}"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert StripeEvent.objects.filter(order=order).count() == 1


def changelist_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/registrations/order/",
        "/admin/registrations/seat/",
        "/admin/registrations/rosterseat/",
        "/admin/cohorts/waitlistentry/",
    ],
)
def test_admin_changelist_costs_the_same_at_n_and_3n_rows(staff_client, rush, url):
    workshop, cohort = rush
    # Both sizes fill more than one changelist page (100 rows), so every row shown is a new one.
    at_n = changelist_queries(staff_client, url)
    add_paid_orders(workshop, orders=400, seats=1000, start=10_000)
    add_waitlist(cohort, entries=600, start=10_000)
    at_3n = changelist_queries(staff_client, url)
    assert at_3n == at_n
