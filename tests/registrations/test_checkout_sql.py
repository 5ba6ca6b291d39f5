"""Checkout start writes the order, its seats, the Checkout Session's payment request and the session's id on the
order in SQL built from the models on PostgreSQL (registrations/services/checkout_sql.py), where the ORM writes them
on SQLite and everywhere else. For any order (every field place_order sets, text with quotes and accents, seats named
or not, a voucher or a quote or neither) and any sequence of sessions recorded, the rows are the ORM's rows."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registrations.models import Order, PaymentRequest, Quote, Seat, Voucher
from registrations.services import checkout_sql
from tests.factories import WorkshopFactory

pytestmark = pytest.mark.django_db

# Each save makes its own reference, token and timestamps; every other column must match.
OWN = {"id", "reference", "token", "created_at", "updated_at", "order_id"}
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)

attendee = st.fixed_dictionaries({
    "attendee_name": text, "attendee_email": st.sampled_from(["", "ana@school.example", "O'Neil@École.example"]),
    "needs_captions": st.booleans(), "needs_interpreter": st.booleans(), "access_note": text,
})
order_fields = st.fixed_dictionaries({
    "buyer_name": text, "buyer_email": st.sampled_from(["maya@lincoln.example", "MAYA@Lincoln.Example"]),
    "organisation": text, "role": st.sampled_from(list(Order.Role)), "buyer_attends": st.booleans(),
    "seat_count": st.integers(min_value=1, max_value=7), "unit_price_cents": st.integers(min_value=0, max_value=20000),
    "discount_cents": st.integers(min_value=0, max_value=5000), "voucher_seat_count": st.integers(min_value=0, max_value=3),
    "tier_min_seats": st.sampled_from([1, 5]), "minutes": st.integers(min_value=-5, max_value=31),
    "is_test_payment": st.booleans(), "hold_source": st.sampled_from(["", "0" * 32]),
    "submission_key": st.sampled_from(["", "f" * 64]), "with": st.sampled_from(["", "voucher", "quote"]),
})


def _order(workshop, fields, now, voucher, quote) -> Order:
    fields = dict(fields)
    minutes, extra = fields.pop("minutes"), fields.pop("with")
    subtotal = fields["unit_price_cents"] * fields["seat_count"]
    return Order(
        workshop=workshop, **fields, subtotal_cents=subtotal, total_cents=max(subtotal - fields["discount_cents"], 0),
        voucher=voucher if extra == "voucher" else None, quote=quote if extra == "quote" else None,
        hold_expires_at=now + timedelta(minutes=minutes),
    )


def _seats(count: int, named: list[dict]) -> list[Seat]:
    rows = (named + [{}] * count)[:count]
    return [Seat(position=position, **row) for position, row in enumerate(rows, start=1)]


def _row(order: Order) -> tuple[dict, list[dict]]:
    fresh = Order.objects.filter(pk=order.pk).values().get()
    seats = list(Seat.objects.filter(order=order).order_by("position").values())
    assert order.pk and not order._state.adding and fresh["created_at"] and fresh["updated_at"]
    return {k: v for k, v in fresh.items() if k not in OWN}, [{k: v for k, v in s.items() if k not in OWN} for s in seats]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=order_fields, named=st.lists(attendee, max_size=7))
def test_an_order_and_its_seats_are_the_rows_the_orm_writes(fields, named):
    now = timezone.now()
    workshop = WorkshopFactory(with_schedule=False)
    voucher = Voucher.objects.create(workshop=workshop, code=f"CODE{workshop.pk}", percent_off=10)
    quote = Quote.objects.create(
        workshop=workshop, contact_name="Ana", contact_email="ana@school.example", organisation="Lincoln",
        seat_count=5, unit_price_cents=10000, tier_min_seats=5, subtotal_cents=50000, total_cents=50000,
        valid_until=now + timedelta(days=30),
    )
    seat_count = fields["seat_count"]
    by_sql = checkout_sql.save_order_with_seats(_order(workshop, fields, now, voucher, quote), _seats(seat_count, named))
    by_orm = checkout_sql.orm_save_order_with_seats(_order(workshop, fields, now, voucher, quote), _seats(seat_count, named))
    assert _row(by_sql) == _row(by_orm)
    assert len(_row(by_sql)[1]) == seat_count


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sessions=st.lists(st.tuples(st.sampled_from(["cs_test_a", "cs_test_b", "cs_test_c"]), st.booleans()), min_size=1, max_size=5),
)
def test_a_checkout_session_is_recorded_as_the_orm_records_it(sessions):
    now = timezone.now()
    workshop = WorkshopFactory(with_schedule=False)
    orders = [
        checkout_sql.orm_save_order_with_seats(
            Order(workshop=workshop, buyer_name="Maya", buyer_email="maya@lincoln.example", organisation="Lincoln",
                  role=Order.Role.TEACHER, seat_count=1, unit_price_cents=12000, subtotal_cents=12000, total_cents=12000,
                  tier_min_seats=1, hold_expires_at=now + timedelta(minutes=31)),
            _seats(1, []),
        )
        for _ in range(2)
    ]
    for minutes, (session_id, test_mode) in enumerate(sessions):
        at = now + timedelta(minutes=minutes)
        for order, record in zip(orders, (checkout_sql.record_checkout_session, checkout_sql.orm_record_checkout_session)):
            record(
                request=PaymentRequest(order=order, kind=PaymentRequest.Kind.CHECKOUT, provider_id=f"{session_id}_{order.pk}",
                                       amount_cents=order.total_cents, currency="usd"),
                session_url=f"https://checkout.stripe.test/{session_id}", is_test_payment=test_mode, now=at,
            )
    rows = [Order.objects.filter(pk=order.pk).values().get() for order in orders]
    requests = [
        [(r["kind"], r["provider_id"].rsplit("_", 1)[0], r["amount_cents"], r["currency"])
         for r in PaymentRequest.objects.filter(order=order).order_by("pk").values()]
        for order in orders
    ]
    assert requests[0] == requests[1]
    for row in rows:
        row["stripe_checkout_session_id"] = row["stripe_checkout_session_id"].rsplit("_", 1)[0]
    assert {k: v for k, v in rows[0].items() if k not in OWN - {"updated_at"}} == {
        k: v for k, v in rows[1].items() if k not in OWN - {"updated_at"}
    }
    assert rows[0]["checkout_attempts"] == len(sessions)
