"""Finding 7 (last part): a certificate stops verifying once its seat is refunded."""

import pytest
from django.test import Client

from registrations.models import Certificate, Order, Seat
from registrations.services.learning import issue_certificate
from tests.factories import OrderFactory, complete_seat

pytestmark = pytest.mark.django_db


def _certified_seat():
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    seat = order.seats.get(position=1)
    complete_seat(seat)
    return seat, issue_certificate(seat=seat)


def test_finding_7_a_refunded_seats_certificate_no_longer_verifies(stripe_double, staff_client):
    client = Client()  # a district checking the code, not the staff member who refunded
    seat, certificate = _certified_seat()
    assert client.get(certificate.get_absolute_url()).status_code == 200
    staff_client.post(
        "/admin/registrations/seat/",
        {"action": "refund_selected_seats", "_selected_action": [seat.pk], "post": "yes"},
    )
    seat.refresh_from_db()
    assert seat.status == Seat.Status.REFUNDED
    response = client.get(certificate.get_absolute_url())
    assert response.status_code == 410
    html = response.content.decode()
    assert "is no longer valid: the registration it was issued for was refunded" in html
    assert "Ana Diaz" not in html


def test_a_wholly_refunded_orders_certificates_no_longer_verify(client):
    seat, certificate = _certified_seat()
    Order.objects.filter(pk=seat.order_id).update(status=Order.Status.REFUNDED)
    assert client.get(certificate.get_absolute_url()).status_code == 410


def test_the_other_seats_certificate_still_verifies(client):
    seat, certificate = _certified_seat()
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.REFUNDED)
    other = seat.order.seats.get(position=2)
    complete_seat(other)
    other_certificate = issue_certificate(seat=other)
    assert client.get(other_certificate.get_absolute_url()).status_code == 200
    assert Certificate.objects.count() == 2
