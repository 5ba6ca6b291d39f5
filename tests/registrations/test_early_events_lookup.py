"""Finding the refund and dispute events that arrived before their payment is an index lookup on the PaymentIntent the
event named, stored in its own column when the event is recorded: a payment's webhook costs the same however many
events are stored."""

import secrets
from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations.models import Order, Refund, StripeEvent
from tests.factories import OrderFactory, WorkshopFactory, record_refund
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)


def paid_at_stripe(client, stripe_double) -> tuple[Order, dict]:
    """An order paid on Stripe's page whose webhook has not arrived yet."""
    workshop = WorkshopFactory()
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    order = Order.objects.latest("created_at")
    return order, stripe_double.pay(order.stripe_checkout_session_id)


def other_payments_refunded(post_webhook, count: int) -> None:
    """Refund events for payments this site has not recorded (yet): stored, waiting for their payment."""
    for _ in range(count):
        intent = f"pi_{secrets.token_hex(12)}"
        post_webhook("charge.refunded", {"id": f"ch_{intent}", "object": "charge", "payment_intent": intent,
                                         "amount": 12000, "amount_refunded": 1000})


def payment_webhook_queries(client, stripe_double, post_webhook) -> list[str]:
    """The SQL of a payment's webhook, with one refund event of its own that arrived before it."""
    order, paid = paid_at_stripe(client, stripe_double)
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(paid["payment_intent"], 1000))
    with CaptureQueriesContext(connection) as queries:
        post_webhook("checkout.session.completed", paid)
    assert order.refunds.count() == 1  # the early refund was found and recorded
    return [q["sql"] for q in queries.captured_queries]


def test_a_payments_webhook_costs_the_same_however_many_events_are_stored(client, stripe_double, post_webhook):
    few = payment_webhook_queries(client, stripe_double, post_webhook)
    other_payments_refunded(post_webhook, 40)
    many = payment_webhook_queries(client, stripe_double, post_webhook)
    assert len(many) == len(few)


def test_a_stored_event_keeps_the_payment_intent_it_names(client, stripe_double, post_webhook):
    _, paid = paid_at_stripe(client, stripe_double)
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(paid["payment_intent"], 1000))
    post_webhook("checkout.session.completed", paid)
    assert sorted(StripeEvent.objects.values_list("type", "stripe_payment_intent_id")) == [
        ("charge.refunded", paid["payment_intent"]), ("checkout.session.completed", paid["payment_intent"]),
    ]


@pytest.mark.postgres
def test_the_early_events_lookup_uses_the_payment_intent_index(client, stripe_double, post_webhook):
    other_payments_refunded(post_webhook, 5)
    sql = [q for q in payment_webhook_queries(client, stripe_double, post_webhook)
           if 'FROM "registrations_stripeevent"' in q and "charge.refunded" in q]
    assert len(sql) == 1, sql
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a handful of rows: make the planner show what it can use
        try:
            cursor.execute(f"EXPLAIN {sql[0]}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "stripeevent_payment_intent" in plan, plan


def test_the_migration_fills_in_what_it_adds_for_rows_stored_before_it(workshop):
    def event(event_id: str, event_type: str, obj: dict) -> StripeEvent:
        return StripeEvent.objects.create(event_id=event_id, type=event_type, payload={"id": event_id, "data": {"object": obj}})

    early = event("evt_refund", "charge.refunded", {"object": "charge", "payment_intent": "pi_early"})
    expanded = event("evt_dispute", "charge.dispute.created", {"object": "dispute", "payment_intent": {"id": "pi_expanded"}})
    invoice = event("evt_invoice", "invoice.paid", {"object": "invoice", "payments": {
        "data": [{"status": "paid", "payment": {"type": "payment_intent", "payment_intent": "pi_invoice"}}]}})
    none = event("evt_expired", "checkout.session.expired", {"object": "checkout.session", "payment_intent": None})
    refund = record_refund(OrderFactory(workshop=workshop, paid_at=timezone.now()), 1000)
    made = datetime(2027, 3, 2, 17, 0, tzinfo=dt_timezone.utc)
    Refund.objects.filter(pk=refund.pk).update(created_at=made)
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("registrations", "0020_seat_time_zone_is_a_real_zone")])  # before the columns existed
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    intents = dict(StripeEvent.objects.values_list("pk", "stripe_payment_intent_id"))
    assert [intents[e.pk] for e in (early, expanded, invoice, none)] == ["pi_early", "pi_expanded", "pi_invoice", ""]
    assert Refund.objects.get(pk=refund.pk).made_at == made

