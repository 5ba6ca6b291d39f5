"""Hostile review of issues 15 and 19: each test is an attack that worked before its fix.

A stranger, a team lead and staff with a narrow role try to learn who registered, read access needs or
affinity groups, or make the site send email without limit.
"""

import pytest
from django.core import mail

from registrations.models import Order, OutboundEmail, Seat
from staff.services import erase_person
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db

LIMITED = "This form has been sent too many times from your network or for this email address."
BILLING = {
    "payment_method": "invoice", "billing_name": "Dana Ruiz", "billing_email": "accounts@lincoln-usd.example",
    "billing_line1": "100 Main Street", "billing_city": "Oakland", "billing_state": "CA", "billing_postal_code": "94612",
}


# --- "Email me my links": the limit per email is per inbox -----------------------------------------------------


def test_lost_links_for_one_inbox_stop_at_the_limit_however_the_address_is_tagged(client, settings, django_capture_on_commit_callbacks):
    """Before: "+tags" made a new counter each, so anyone could flood one inbox (within the per-address limit,
    and without any limit from many addresses)."""
    settings.LINKS_REQUESTS_PER_EMAIL_PER_HOUR = 2
    settings.LINKS_REQUESTS_PER_IP_PER_HOUR = 100
    answers = []
    for n in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(client.post("/links/", {"email": f"target+{n}@school.example"}, REMOTE_ADDR=f"198.51.100.{n}"))
    assert [r.status_code for r in answers] == [302, 302, 429, 429]
    assert len(mail.outbox) == 2


# --- Invoice requests: no oracle on an email address -----------------------------------------------------------


def test_an_invoice_request_with_someone_elses_email_reveals_nothing_about_theirs(client, stripe_double):
    """Before: "There is already an unpaid invoice request for this workshop from this email address" told a
    stranger that the address had asked to be invoiced for a workshop on race."""
    workshop = WorkshopFactory(capacity=40)
    victim = registration_data(seat_count=1, buyer_email="teacher@lincoln.example", **BILLING)
    assert client.post(f"/workshops/{workshop.slug}/register/", victim).status_code == 302
    stranger = registration_data(
        seat_count=1, buyer_email="teacher@lincoln.example",
        **{**BILLING, "billing_email": "ap@elsewhere.example", "billing_line1": "9 Other Road", "billing_postal_code": "10001"},
    )
    response = client.__class__().post(f"/workshops/{workshop.slug}/register/", stranger)
    assert "already an unpaid invoice request" not in response.content.decode()
    assert response.status_code == 302


# --- A team lead cannot make the site email someone without limit ----------------------------------------------


def _change_seat(client, order, email, change="new_person"):
    return client.post(
        f"/orders/{order.token}/seats/2/",
        {"seat-2-name": "Someone", "seat-2-email": email, "seat-2-change": change},
    )


def test_handing_a_seat_back_and_forth_cannot_email_one_address_without_limit(client, settings, django_capture_on_commit_callbacks):
    """Before: each hand-over emailed the new address a welcome and the old one a notice, with no limit, so a
    lead (one paid seat, or a 100% code) could flood anyone's inbox from the order page."""
    settings.RATE_LIMITS = {"seat_change": {"per_address": 100, "per_email": 3, "window_seconds": 3600}}
    order = OrderFactory(seat_count=2, seats=["Maya Johnson", "Ana Diaz"])
    answers = []
    for n in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(_change_seat(client, order, "victim@school.example" if n % 2 == 0 else f"other{n}@school.example"))
    to_victim = [m for m in mail.outbox if m.to == ["victim@school.example"]]
    assert len(to_victim) <= 3
    refused = [r for r in answers if r.status_code == 429]
    assert refused and LIMITED in refused[0].content.decode()


def test_correcting_a_name_only_sends_nothing_and_is_not_counted(client, settings):
    settings.RATE_LIMITS = {"seat_change": {"per_address": 1, "per_email": 1, "window_seconds": 3600}}
    order = OrderFactory(seat_count=2, seats=["Maya Johnson", "Ana Diaz"])
    email = order.seats.get(position=2).attendee_email
    for name in ("Ana Díaz", "Ana M. Díaz"):
        response = client.post(f"/orders/{order.token}/seats/2/",
                               {"seat-2-name": name, "seat-2-email": email, "seat-2-change": "correct"})
        assert response.status_code == 302
    assert order.seats.get(position=2).attendee_name == "Ana M. Díaz"



# --- Private links stay out of the log --------------------------------------------------------------------------


@pytest.fixture
def site_logging(settings):
    """The site's own logging configuration (tests run without it), its console writing to a buffer."""
    import copy
    import io
    import logging.config

    from config.settings import base

    buffer = io.StringIO()
    config = copy.deepcopy(base.LOGGING)
    config["handlers"]["console"]["stream"] = buffer
    logging.config.dictConfig(config)
    yield buffer.getvalue
    logging.config.dictConfig(settings.LOGGING)


def test_a_rejected_form_on_a_private_page_does_not_write_its_link_to_the_log(client, site_logging):
    """Before: Django's "Bad Request: /orders/<token>/seats/2/" put the lead's private link in the log."""
    order = OrderFactory(seat_count=2, seats=["Maya Johnson", "Ana Diaz"])
    response = client.post(f"/orders/{order.token}/seats/2/", {"seat-2-name": "", "seat-2-email": "not-an-email"})
    assert response.status_code == 400
    logged = site_logging()
    assert "Bad Request: /orders/[private]/seats/2/" in logged
    assert order.token not in logged
