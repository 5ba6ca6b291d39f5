"""The kept blank registration form is kept per workshop and per everything it shows: with at least
MAX_SEATS_PER_ORDER seats left its key does not name the seats left, but the attendees part it keeps also shows the
payment choice, whose invoice rules are the workshop's own (capacity, share, seats an invoice can hold just now).
(An independent review found each of these shared or stale.)"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from registrations.models import Order
from tests.factories import OrderFactory, WorkshopFactory

pytestmark = pytest.mark.django_db


def url(workshop) -> str:
    return f"/workshops/{workshop.slug}/register/"


def invoice_rules_text(html: str) -> str:
    start = html.index("data-invoice-rules>")
    return html[start : html.index("</p>", start)]


def test_each_workshop_shows_its_own_invoice_rules_on_the_blank_form():
    a = WorkshopFactory(capacity=60, invoice_hold_percent=30)
    b = WorkshopFactory(capacity=200, invoice_hold_percent=10)
    assert "at most 18 of the 60 seats (30%)" in invoice_rules_text(Client().get(url(a)).content.decode())
    assert "at most 20 of the 200 seats (10%)" in invoice_rules_text(Client().get(url(b)).content.decode())


def test_seats_held_by_an_unpaid_invoice_show_on_the_next_blank_form():
    workshop = WorkshopFactory(capacity=200, invoice_hold_percent=30)  # 60 seats may be held by invoice
    assert "can be held by invoice just now" not in Client().get(url(workshop)).content.decode()
    OrderFactory(
        workshop=workshop, seat_count=20, status=Order.Status.PENDING, paid_at=None,
        payment_method=Order.PaymentMethod.INVOICE, hold_expires_at=timezone.now() + timedelta(days=10),
    )
    assert "40 can be held by invoice just now" in invoice_rules_text(Client().get(url(workshop)).content.decode())


def test_a_new_invoice_share_set_by_staff_shows_on_the_next_blank_form():
    workshop = WorkshopFactory(capacity=200, invoice_hold_percent=30)
    Client().get(url(workshop))
    workshop.invoice_hold_percent = 10
    workshop.save()
    assert "at most 20 of the 200 seats (10%)" in invoice_rules_text(Client().get(url(workshop)).content.decode())


def test_a_visitor_with_a_stale_from_link_does_not_change_the_form_everyone_else_gets():
    workshop = WorkshopFactory()
    Client().get(url(workshop) + "?from=" + "x" * 32)  # an old or mistyped "register again" link
    html = Client().get(url(workshop)).content.decode()
    assert "Only your own details were filled in from your earlier order" not in html
