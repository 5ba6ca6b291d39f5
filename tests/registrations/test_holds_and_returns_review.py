"""A hostile review of two changes (the per-network cap on unpaid card holds, and money owed back reserved as a
pending refund), tried as a hostile buyer, an unlucky one and a careless staff member would: each test is an attack
through the public surface, kept because it found a problem or covers an edge the other tests do not."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from registrations.models import Order
from registrations.selectors.ledger import order_money
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.registrations.test_money_review import DATABASE_TASKS

pytestmark = pytest.mark.django_db(transaction=True)


def given_back_at_stripe(stripe_double, payment_intent) -> int:
    return sum(r["amount"] for r in stripe_double.refunds.values() if r["payment_intent"] == payment_intent)


def late_payment_stripe_will_not_return(client, stripe_double, post_webhook) -> tuple[Order, dict]:
    """Two seats paid after their hold lapsed and the workshop filled; Stripe refuses the return for now."""
    workshop = WorkshopFactory(capacity=2)
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=2))
    late = Order.objects.get()
    session = stripe_double.pay(late.stripe_checkout_session_id)
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        OrderFactory(workshop=workshop, seat_count=2, unit_price_cents=12000)
        post_webhook("checkout.session.completed", session)
        stripe_double.fail_next(status=500, times=1, path_prefix="/v1/refunds")
        call_command("run_worker", "--batch")
    late.refresh_from_db()
    assert late.status == Order.Status.NEEDS_REFUND and order_money(order=late).pending_return_cents == 24000
    return late, session


@override_settings(TASKS=DATABASE_TASKS)
def test_a_late_payment_staff_return_in_stripes_dashboard_tells_the_buyer_once(client, stripe_double, post_webhook):
    """Staff follow the alert ("refund it in Stripe's dashboard"): the buyer is told their money came back, as when
    the worker returns it, and the worker's retry neither refunds again nor tells them twice."""
    late, session = late_payment_stripe_will_not_return(client, stripe_double, post_webhook)
    mail.outbox.clear()
    post_webhook("charge.refunded", stripe_double.refund_in_dashboard(session["payment_intent"], 24000))
    with time_machine.travel(timezone.now() + timedelta(minutes=50)):
        call_command("run_worker", "--batch")
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED
    assert given_back_at_stripe(stripe_double, session["payment_intent"]) == 24000
    to_buyer = [m for m in mail.outbox if m.to == [late.buyer_email]]
    assert len(to_buyer) == 1 and "refunded" in to_buyer[0].subject and "$240.00" in to_buyer[0].body
