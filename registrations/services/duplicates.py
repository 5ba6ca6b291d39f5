"""A second registration from an email that already has an order for the workshop.

The browser that holds the first order (it opened that order's page, so its session knows the
token) is shown the order and offered to add seats to it. Anyone else gets exactly what a new
email gets, and the notice goes by email to that address: a stranger typing someone's email
learns nothing about their registration.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from workshops.schedule import known_zone

from .. import emails
from ..models import Order

KNOWN_ORDERS_SESSION_KEY = "order_tokens"
KNOWN_ORDERS_KEPT = 20


def remember_order(*, session, order: Order) -> None:
    """This browser opened the order's page (it holds the token): remember it, newest last."""
    known = [t for t in session.get(KNOWN_ORDERS_SESSION_KEY, []) if t != order.token]
    session[KNOWN_ORDERS_SESSION_KEY] = (known + [order.token])[-KNOWN_ORDERS_KEPT:]


def browser_knows(*, session, order: Order) -> bool:
    return order.token in session.get(KNOWN_ORDERS_SESSION_KEY, [])


def notify_second_registration(*, existing: Order, new_order: Order, now: datetime | None = None) -> None:
    """Email the buyer's address that it has started a second registration; at most once a day per first order."""
    if existing.status not in (Order.Status.PAID, Order.Status.PROCESSING):
        return
    now = now or timezone.now()
    with transaction.atomic():
        emails.send_second_registration_notice(existing=existing, new_order=new_order, day=now.date())


def remember_time_zone(*, order: Order, zone: str) -> None:
    """Keep the buyer's own time zone (from their browser) for the times in their emails."""
    zone = known_zone(zone)
    if zone and zone != order.workshop.time_zone:
        Order.objects.filter(pk=order.pk).update(time_zone=zone)
        order.time_zone = zone
