"""500 webhook deliveries from 8 threads at once, duplicated and out of order (PostgreSQL)."""

import json
import queue
import random
import secrets
import threading
import time
from collections import Counter

import pytest
import stripe
from django.core import mail
from django.db import connection
from django.test import Client

from registrations.models import Order, OutboundEmail, StripeEvent
from registrations.selectors.availability import seats_taken
from registrations.services.checkout import place_order, start_checkout
from tests.conftest import WEBHOOK_SECRET
from tests.factories import OrderFactory, WorkshopFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EXPECTED = {
    "paid": Order.Status.PAID,
    "expired": Order.Status.EXPIRED,
    "expired_then_paid": Order.Status.PAID,
    "async_ok": Order.Status.PAID,
    "async_fail": Order.Status.FAILED,
    "refunded": Order.Status.REFUNDED,
}


def event(event_type, obj, event_id=None):
    return {"id": event_id or f"evt_{secrets.token_hex(10)}", "type": event_type, "object": obj}


def deliver(client: Client, ev: dict) -> int:
    payload = json.dumps(
        {"id": ev["id"], "object": "event", "type": ev["type"], "created": int(time.time()), "data": {"object": ev["object"]}}
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    return client.post("/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header).status_code


def test_webhook_storm_ends_every_order_in_its_implied_state(stripe_double):
    rng = random.Random(20261128)
    workshop = WorkshopFactory(capacity=400)
    scenarios = [name for name in EXPECTED for _ in range(12)]
    events, orders = [], {}
    for n, scenario in enumerate(scenarios):
        if scenario == "refunded":
            order = OrderFactory(workshop=workshop, seat_count=2, stripe_payment_intent_id=f"pi_storm_{n}")
            charge = {"id": f"ch_{n}", "object": "charge", "payment_intent": order.stripe_payment_intent_id,
                      "amount_refunded": order.total_cents}
            events += [event("charge.refunded", charge, f"evt_refund_{n}")] * 2
            orders[order.pk] = scenario
            continue
        order = place_order(
            workshop=workshop, buyer_name=f"Buyer {n}", buyer_email=f"storm{n}@school.example",
            organisation="District", role="teacher", seat_count=1 + n % 3, buyer_attends=True, attendees=[],
        )
        start_checkout(order=order)
        order.refresh_from_db()
        orders[order.pk] = scenario
        open_session = dict(stripe_double.sessions[order.stripe_checkout_session_id])
        unpaid_complete = {**open_session, "status": "complete"}
        if scenario == "paid":
            paid = stripe_double.pay(order.stripe_checkout_session_id)
            events += [event("checkout.session.completed", paid, f"evt_paid_{n}")] * 3
            events.append(event("checkout.session.completed", paid))
        elif scenario == "expired":
            events += [event("checkout.session.expired", {**open_session, "status": "expired"}, f"evt_exp_{n}")] * 2
        elif scenario == "expired_then_paid":
            paid = stripe_double.pay(order.stripe_checkout_session_id)
            events += [event("checkout.session.expired", {**open_session, "status": "expired"}, f"evt_exp_{n}"),
                       event("checkout.session.completed", paid, f"evt_paid_{n}")] * 2
        elif scenario == "async_ok":
            events.append(event("checkout.session.completed", unpaid_complete, f"evt_cmp_{n}"))
            paid = stripe_double.pay(order.stripe_checkout_session_id)
            events += [event("checkout.session.async_payment_succeeded", paid, f"evt_ok_{n}")] * 2
        elif scenario == "async_fail":
            events.append(event("checkout.session.completed", unpaid_complete, f"evt_cmp_{n}"))
            events += [event("checkout.session.async_payment_failed", unpaid_complete, f"evt_fail_{n}")] * 2
    n = 0
    while len(events) < 480:  # refunds of charges we never sold
        events.append(event("charge.refunded", {"id": f"ch_x{n}", "payment_intent": f"pi_unknown_{n}", "amount_refunded": 500}))
        n += 1
    while len(events) < 500:
        events.append(rng.choice(events))  # more redeliveries
    rng.shuffle(events)
    mail.outbox.clear()

    work: queue.Queue = queue.Queue()
    for ev in events:
        work.put(ev)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker():
        client = Client()
        try:
            while True:
                try:
                    ev = work.get_nowait()
                except queue.Empty:
                    return
                code = deliver(client, ev)
                with lock:
                    statuses.append(code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(statuses) == 500
    assert Counter(statuses) == Counter({200: 500})
    final = {o.pk: o.status for o in Order.objects.filter(pk__in=orders)}
    wrong = {pk: (orders[pk], status) for pk, status in final.items() if status != EXPECTED[orders[pk]]}
    assert not wrong
    assert StripeEvent.objects.count() == len({ev["id"] for ev in events})
    paid_by_storm = [pk for pk, s in orders.items() if EXPECTED[s] == Order.Status.PAID]
    confirmations = OutboundEmail.objects.filter(key__startswith="order_confirmation:")
    assert sorted(int(k.split(":")[1]) for k in confirmations.values_list("key", flat=True)) == sorted(paid_by_storm)
    per_recipient = Counter(m.to[0] for m in mail.outbox if "You're registered" in m.subject)
    assert set(per_recipient.values()) == {1} and len(per_recipient) == len(paid_by_storm)
    assert seats_taken(workshop_id=workshop.pk) <= workshop.capacity
