"""The registration form and checkout start ask two questions in SQL written by hand (registrations/selectors): how
many seats are taken, held from the buyer's network and held by unpaid invoices, whether the buyer's email
already has an order, and which order the registration page being sent placed already. For any mix of orders
(every status, both payment methods, holds live and lapsed, seats refunded, emails in any case, additions),
the answers are exactly what the ORM's definitions of the same rules give."""

from datetime import timedelta

import pytest
from django.db.models import F, Q, Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registrations.models import Order
from registrations.selectors.availability import SeatCounts, seat_counts, seat_taking_orders
from registrations.selectors.order_pages import existing_order_for
from tests.factories import OrderFactory, WorkshopFactory

pytestmark = pytest.mark.django_db

NETWORKS = ("net-a", "net-b", "")
EMAILS = ("maya@lincoln.example", "MAYA@Lincoln.Example", "jo@lincoln.example")
KEYS = ("a" * 64, "b" * 64, "")

orders = st.lists(
    st.fixed_dictionaries({
        "status": st.sampled_from(list(Order.Status)),
        "payment_method": st.sampled_from(list(Order.PaymentMethod)),
        "hold_source": st.sampled_from(NETWORKS),
        "minutes_left": st.sampled_from([-60, -1, 0, 1, 45]),
        "seat_count": st.integers(min_value=1, max_value=6),
        "refunded": st.integers(min_value=0, max_value=6),
        "email": st.sampled_from(EMAILS),
        "addition": st.booleans(),
        "other_workshop": st.booleans(),
        "submission_key": st.sampled_from(KEYS),
    }),
    max_size=12,
)


def _place(workshops, rows, now):
    parent = None
    for row in rows:
        workshop = workshops[row["other_workshop"]]
        order = OrderFactory(
            workshop=workshop, status=row["status"], payment_method=row["payment_method"], hold_source=row["hold_source"],
            hold_expires_at=now + timedelta(minutes=row["minutes_left"]), seat_count=row["seat_count"],
            refunded_seat_count=min(row["refunded"], row["seat_count"]), buyer_email=row["email"],
            kind=Order.Kind.ADDITION if row["addition"] and parent else Order.Kind.PURCHASE,
            parent=parent if row["addition"] else None, payment=False, submission_key=row["submission_key"],
        )
        parent = parent or order


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=orders, network=st.sampled_from(NETWORKS[:2]))
def test_seat_counts_match_the_orm_rules(rows, network):
    now = timezone.now()
    workshops = [WorkshopFactory(with_schedule=False), WorkshopFactory(with_schedule=False)]
    _place(workshops, rows, now)
    mine = Order.objects.filter(workshop=workshops[0])
    seats = Sum(F("seat_count") - F("refunded_seat_count"))
    taken = mine.filter(seat_taking_orders(now=now)).aggregate(n=seats)["n"] or 0
    held = mine.filter(
        hold_source=network, payment_method=Order.PaymentMethod.CARD, status=Order.Status.PENDING, hold_expires_at__gt=now
    ).aggregate(n=seats)["n"] or 0
    invoiced = mine.filter(
        payment_method=Order.PaymentMethod.INVOICE, status=Order.Status.PENDING, hold_expires_at__gt=now
    ).aggregate(n=seats)["n"] or 0
    counts = seat_counts(workshop_id=workshops[0].pk, hold_source=network, invoice_holds=True, now=now)
    assert counts == SeatCounts(taken, held, invoiced)
    assert seat_counts(workshop_id=workshops[0].pk, now=now) == SeatCounts(taken, 0, 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=orders, key=st.sampled_from(KEYS[:2]))
def test_the_order_placed_from_a_registration_page_matches_the_orm_rules(rows, key):
    now = timezone.now()
    workshops = [WorkshopFactory(with_schedule=False), WorkshopFactory(with_schedule=False)]
    _place(workshops, rows, now)
    standing = Order.objects.filter(
        workshop=workshops[0], submission_key=key,
        status__in=[Order.Status.PENDING, Order.Status.PROCESSING, Order.Status.PAID],
    ).order_by("pk").values_list("pk", flat=True).first()
    assert seat_counts(workshop_id=workshops[0].pk, submission_key=key, now=now).same_submission == standing


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=orders, email=st.sampled_from(EMAILS + (" Maya@LINCOLN.example ",)))
def test_the_earlier_order_found_for_an_email_matches_the_orm_rules(rows, email):
    now = timezone.now()
    workshops = [WorkshopFactory(with_schedule=False), WorkshopFactory(with_schedule=False)]
    _place(workshops, rows, now)
    expected = (
        Order.objects.filter(workshop=workshops[0], buyer_email__iexact=email.strip(), kind=Order.Kind.PURCHASE)
        .filter(Q(status__in=(Order.Status.PAID, Order.Status.PROCESSING)) | Q(status=Order.Status.PENDING, hold_expires_at__gt=now))
        .order_by("-created_at", "-pk")
        .first()
    )
    found = existing_order_for(workshop_id=workshops[0].pk, email=email, now=now)
    assert (found and found.pk) == (expected and expected.pk)
