"""Checkout start's writes on PostgreSQL, one statement each instead of the ORM's several: the order with its seats,
and the Checkout Session's payment request with its id on the order. SQLite keeps the ORM's path.

Each statement is built once from the models' own field lists (a column added to Order, Seat or PaymentRequest is
written here too) and each value is prepared as Model.save() prepares it (Field.pre_save, then get_db_prep_save):
the rows are the ORM's rows (tests/registrations/test_checkout_sql.py holds them to it for any order)."""

from datetime import datetime
from functools import cache

from django.db import connection, models, transaction
from django.db.models import F
from psycopg.adapt import Transformer

from ..models import Order, PaymentRequest, Seat
from ..selectors.availability import SeatCountQuery, SeatCounts


def writes_in_sql() -> bool:
    return connection.vendor == "postgresql"


def _insert_fields(model) -> list:
    """What Model.save() inserts: the concrete fields but the automatic primary key."""
    return [field for field in model._meta.local_concrete_fields if field is not model._meta.auto_field]


# Fields whose get_db_prep_save gives a value of exactly this type back unchanged (Django's own classes, not
# subclasses): such a value goes as it is, anything else through get_db_prep_save.
_AS_IS = {
    **dict.fromkeys((models.CharField, models.TextField, models.EmailField, models.SlugField, models.URLField), str),
    **dict.fromkeys((
        models.IntegerField, models.SmallIntegerField, models.BigIntegerField, models.PositiveIntegerField,
        models.PositiveSmallIntegerField, models.PositiveBigIntegerField,
    ), int),
    models.BooleanField: bool,
}


@cache
def _as_is(field) -> type | None:
    if type(field) is models.ForeignKey:
        return _as_is(field.target_field) if type(field.target_field) in (models.AutoField, models.BigAutoField) else None
    if type(field) in (models.AutoField, models.BigAutoField):
        return int
    return _AS_IS.get(type(field))


def _plan(fields) -> tuple[tuple, ...]:
    """For each field: the field, its attribute, the type its value goes as it is in (_as_is), and whether pre_save is
    Field's own (which only reads the attribute)."""
    return tuple(
        (field, field.attname, _as_is(field), type(field).pre_save is models.Field.pre_save) for field in fields
    )


@cache
def _insert_plan(model) -> tuple[tuple, ...]:
    """_plan of what Model.save() inserts, worked out once per process rather than per field per checkout."""
    return _plan(_insert_fields(model))


@cache
def _seat_plan() -> tuple[tuple, ...]:
    return _plan(_seat_fields())


def _values(obj, plan: tuple[tuple, ...]) -> list:
    """Each field's value as Model.save() would send it: Field.pre_save, then get_db_prep_save but where _as_is
    says the value goes as it is."""
    values = []
    for field, attname, kind, reads_attribute in plan:
        value = getattr(obj, attname) if reads_attribute else field.pre_save(obj, True)
        if kind is not None and (type(value) is kind or value is None and field.null):
            values.append(value)
        else:
            values.append(field.get_db_prep_save(value, connection))
    return values


@cache
def _parts(sql: str) -> tuple[str, ...]:
    return tuple(sql.split("%s"))  # statements built here, with no other % in them


def _execute(cursor, sql: str, params: list) -> None:
    """cursor.execute(sql, params) as psycopg's client-side binding runs it (each value as psycopg's literal for it),
    with the statement's parts split once: psycopg parses a statement of more than 50 parameters afresh each time."""
    literal, parts = Transformer.from_context(cursor.cursor).as_literal, _parts(sql)
    query = [parts[0]]
    for value, part in zip(params, parts[1:], strict=True):
        query += ["NULL" if value is None else literal(value).decode(), part]  # Django connects in UTF8
    cursor.execute("".join(query))


def _placeholders(count: int) -> str:
    return f"({', '.join(['%s'] * count)})"


def _columns(fields) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


@cache
def _order_with_seats_sql(seat_rows: int) -> str:
    """INSERT the order, then its seats naming it, in one statement; answers the order's id."""
    order_fields, seat_fields = _insert_fields(Order), _seat_fields()
    quote, seat_values = connection.ops.quote_name, _placeholders(len(seat_fields))
    one_seat = f"((SELECT {quote(Order._meta.pk.column)} FROM placed), {seat_values[1:]}"
    return (
        f"WITH placed AS (INSERT INTO {quote(Order._meta.db_table)} ({_columns(order_fields)}) "
        f"VALUES {_placeholders(len(order_fields))} RETURNING {quote(Order._meta.pk.column)}) "
        f"INSERT INTO {quote(Seat._meta.db_table)} ({quote(Seat._meta.get_field('order').column)}, "
        f"{_columns(seat_fields)}) VALUES {', '.join([one_seat] * seat_rows)} "
        f"RETURNING {quote(Seat._meta.get_field('order').column)}"
    )


@cache
def _seat_fields() -> list:
    return [field for field in _insert_fields(Seat) if field.name != "order"]


def save_order_with_seats(order: Order, seats: list[Seat]) -> Order:
    """Save a new order and its seats (at least one, as every order has); the order gets its id, as
    Order.objects.create gives it. On PostgreSQL one round trip (one statement), else the ORM's."""
    if not writes_in_sql():
        return orm_save_order_with_seats(order, seats)
    params = _values(order, _insert_plan(Order))
    for seat in seats:
        params += _values(seat, _seat_plan())
    with connection.cursor() as cursor:
        _execute(cursor, _order_with_seats_sql(len(seats)), params)
        order.pk = cursor.fetchone()[0]
    order._state.adding, order._state.db = False, connection.alias
    return order


def orm_save_order_with_seats(order: Order, seats: list[Seat]) -> Order:
    order.save(force_insert=True)
    for seat in seats:
        seat.order = order
    Seat.objects.bulk_create(seats)
    return order


@cache
def _lock_sql() -> str:
    from workshops.models import Workshop

    quote, columns = connection.ops.quote_name, ("capacity", "is_published", "catalog_version")
    fields = ", ".join(quote(Workshop._meta.get_field(name).column) for name in columns)
    return f"SELECT {fields} FROM {quote(Workshop._meta.db_table)} WHERE {quote(Workshop._meta.pk.column)} = %s FOR UPDATE"


def lock_workshop(workshop_id: int, *, then: SeatCountQuery) -> tuple[tuple[int, bool, str], SeatCounts]:
    """Lock the workshop's row; its capacity, publication and catalog version as they stand under the lock, and the
    seat counts `then` asks for, counted once the lock is held: two statements sent in one round trip. Each
    statement of a READ COMMITTED transaction reads with its own snapshot, taken when it starts: the count starts
    after the lock is granted, so it sees every order committed by the buyer who held the lock before
    (tests/registrations/test_concurrency.py)."""
    with connection.cursor() as cursor:
        cursor.execute(f"{_lock_sql()}; {then.sql}", [workshop_id, *then.params])
        locked = cursor.fetchone()
        cursor.nextset()
        return locked, then.counts(cursor.fetchone())


@cache
def _session_sql() -> str:
    fields, quote = _insert_fields(PaymentRequest), connection.ops.quote_name
    column = {name: quote(Order._meta.get_field(name).column) for name in (
        "checkout_attempts", "stripe_checkout_session_id", "stripe_checkout_url", "is_test_payment", "updated_at"
    )}
    return (
        f"WITH request AS (INSERT INTO {quote(PaymentRequest._meta.db_table)} ({_columns(fields)}) "
        f"VALUES {_placeholders(len(fields))} ON CONFLICT DO NOTHING) "
        f"UPDATE {quote(Order._meta.db_table)} SET {column['checkout_attempts']} = {column['checkout_attempts']} + 1, "
        f"{column['stripe_checkout_session_id']} = %s, {column['stripe_checkout_url']} = %s, "
        f"{column['is_test_payment']} = %s, {column['updated_at']} = %s WHERE {quote(Order._meta.pk.column)} = %s"
    )


def record_checkout_session(*, request: PaymentRequest, session_url: str, is_test_payment: bool, now: datetime) -> None:
    """The payment request (kept once: a retry within the hold gets the same session back, and its row is there
    already) and the session on its order, with one more attempt counted, committed together: on PostgreSQL in one
    statement, else the ORM's two in one transaction."""
    if not writes_in_sql():
        return orm_record_checkout_session(request=request, session_url=session_url, is_test_payment=is_test_payment, now=now)
    params = _values(request, _insert_plan(PaymentRequest))
    get = Order._meta.get_field
    for field, value in ((get("stripe_checkout_session_id"), request.provider_id), (get("stripe_checkout_url"), session_url),
                         (get("is_test_payment"), is_test_payment), (get("updated_at"), now), (Order._meta.pk, request.order_id)):
        params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        _execute(cursor, _session_sql(), params)
    return None


def orm_record_checkout_session(*, request: PaymentRequest, session_url: str, is_test_payment: bool, now: datetime) -> None:
    with transaction.atomic():
        PaymentRequest.objects.bulk_create([request], ignore_conflicts=True)
        Order.objects.filter(pk=request.order_id).update(
            checkout_attempts=F("checkout_attempts") + 1,
            stripe_checkout_session_id=request.provider_id,
            stripe_checkout_url=session_url,
            is_test_payment=is_test_payment,
            updated_at=now,
        )
