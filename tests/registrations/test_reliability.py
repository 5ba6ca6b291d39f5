"""Durable side effects and Stripe faults: nothing lost, nothing done twice."""

import socket
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from registrations.models import Order, OutboundEmail
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, initially down."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.EMAIL_USE_TLS = False
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    yield inbox, controller
    if getattr(controller, "_thread", None):
        controller.stop()


def paid_order(client, workshop, stripe_double, post_webhook):
    client.post(f"/workshops/{workshop.slug}/register/", registration_data())
    order = Order.objects.get()
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    return order


@override_settings(TASKS=DATABASE_TASKS)
def test_smtp_outage_delays_email_then_delivers_it_once(client, workshop, stripe_double, post_webhook, smtp):
    inbox, controller = smtp
    paid_order(client, workshop, stripe_double, post_webhook)
    call_command("run_worker", "--batch")  # SMTP is down
    email = OutboundEmail.objects.get()
    assert email.sent_at is None and email.attempts == 1 and email.last_error
    controller.start()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        call_command("run_worker", "--batch")
        call_command("run_worker", "--batch")
    email.refresh_from_db()
    assert email.sent_at is not None
    assert len(inbox.messages) == 1
    assert inbox.messages[0].rcpt_tos == ["maya@lincoln.example"]


@override_settings(TASKS=DATABASE_TASKS)
def test_worker_killed_mid_task_loses_no_email(client, workshop, stripe_double, post_webhook, smtp):
    inbox, controller = smtp
    controller.start()
    paid_order(client, workshop, stripe_double, post_webhook)
    # A worker claimed the task and died: the task row is stuck in RUNNING, the email unsent.
    DBTaskResult.objects.update(status="RUNNING", worker_ids=["dead-worker"])
    call_command("run_worker", "--batch")
    assert OutboundEmail.objects.get().sent_at is not None
    assert len(inbox.messages) == 1


@override_settings(TASKS=DATABASE_TASKS)
def test_duplicate_delivery_tasks_send_once(client, workshop, stripe_double, post_webhook, smtp):
    inbox, controller = smtp
    controller.start()
    paid_order(client, workshop, stripe_double, post_webhook)
    from registrations.tasks import deliver_email

    deliver_email.enqueue(OutboundEmail.objects.get().pk)
    call_command("run_worker", "--batch")
    call_command("run_worker", "--batch")
    assert len(inbox.messages) == 1


@override_settings(TASKS=DATABASE_TASKS)
def test_email_is_queued_in_the_payment_transaction(client, workshop, stripe_double, post_webhook):
    paid_order(client, workshop, stripe_double, post_webhook)
    email = OutboundEmail.objects.get()
    assert email.key == f"order_confirmation:{Order.objects.get().pk}"
    assert DBTaskResult.objects.filter(status="READY").count() == 1


def test_checkout_retries_a_stripe_500_with_the_same_idempotency_key(client, workshop, stripe_double, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    stripe_double.fail_next(status=500, path_prefix="/v1/checkout/sessions")
    response = client.post(f"/workshops/{workshop.slug}/register/", registration_data())
    assert response["Location"].startswith("https://checkout.stripe.test/")
    keys = [r["idempotency_key"] for r in stripe_double.requests_to("POST", "/v1/checkout/sessions")]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert len(stripe_double.sessions) == 1


def test_checkout_retries_a_dropped_connection(client, workshop, stripe_double, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    stripe_double.fail_next(status=0, path_prefix="/v1/checkout/sessions")
    response = client.post(f"/workshops/{workshop.slug}/register/", registration_data())
    assert response["Location"].startswith("https://checkout.stripe.test/")
    assert len(stripe_double.sessions) == 1


def test_checkout_retries_a_timeout(client, workshop, stripe_double, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    settings.STRIPE_TIMEOUT_SECONDS = 1
    stripe_double.fail_next(status=-1, delay=1.5, path_prefix="/v1/checkout/sessions")
    response = client.post(f"/workshops/{workshop.slug}/register/", registration_data())
    assert response["Location"].startswith("https://checkout.stripe.test/")
    assert len(stripe_double.sessions) == 1


@pytest.mark.parametrize("status", [402, 429])
def test_checkout_does_not_retry_refusals_and_keeps_the_order(client, workshop, stripe_double, settings, status):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    stripe_double.fail_next(status=status, path_prefix="/v1/checkout/sessions")
    response = client.post(f"/workshops/{workshop.slug}/register/", registration_data(), follow=True)
    assert len(stripe_double.requests_to("POST", "/v1/checkout/sessions")) == 1
    assert "We could not reach our payment provider" in response.content.decode()
    assert Order.objects.get().status == Order.Status.PENDING


@pytest.mark.postgres
def test_webhook_that_fails_returns_500_and_redelivery_succeeds_once(client, stripe_double, post_webhook):
    from django.core import mail

    workshop = WorkshopFactory()
    client.post(f"/workshops/{workshop.slug}/register/", registration_data())
    order = Order.objects.get()
    session = stripe_double.pay(order.stripe_checkout_session_id)
    blocker = connection.copy()
    blocker.connect()
    blocker.set_autocommit(False)
    with blocker.cursor() as cursor:  # someone else holds the workshop row for a long time
        cursor.execute("SELECT id FROM workshops_workshop WHERE id = %s FOR UPDATE", [workshop.pk])
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    try:
        failed = post_webhook("checkout.session.completed", session, event_id="evt_retry_me")
    finally:
        blocker.rollback()
        blocker.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert failed.status_code == 500
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    retried = post_webhook("checkout.session.completed", session, event_id="evt_retry_me")
    again = post_webhook("checkout.session.completed", session, event_id="evt_retry_me")
    assert (retried.status_code, again.content) == (200, b"duplicate")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert len(mail.outbox) == 1
