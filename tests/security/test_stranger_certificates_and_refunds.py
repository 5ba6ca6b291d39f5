"""A stranger's review: certificates, calendar files and the links of people who were refunded.

Who took a workshop on race is itself sensitive. A certificate check by code says who completed it, which is what
the attendee hands to their district; once the certificate is revoked or refunded it should say only that it is no
longer valid. A refunded attendee's link stops working everywhere, downloads included.
"""

import pytest
from django.utils import timezone

from registrations.models import Certificate, Order, Seat
from tests.factories import OrderFactory, complete_seat

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(workshop):
    return OrderFactory(workshop=workshop, buyer_email="maya@lincoln.example", seat_count=2,
                        seats=["Ana Diaz", "Ben Okafor"])


def _certificate(client, seat) -> Certificate:
    complete_seat(seat)
    assert client.get(f"/seats/{seat.token}/certificate.pdf").status_code == 200
    return Certificate.objects.get(seat=seat)


def test_a_revoked_certificate_check_names_nobody(client, team):
    """Rule: anyone may check a code; a revoked (or refunded) certificate only says it is no longer valid."""
    certificate = _certificate(client, team.seats.get(position=1))
    Certificate.objects.filter(pk=certificate.pk).update(revoked_at=timezone.now())
    response = client.get(f"/certificates/{certificate.code}/")
    assert response.status_code == 410
    html = response.content.decode()
    assert "revoked" in html
    assert "Ana Diaz" not in html


def test_a_refunded_seats_certificate_check_names_nobody(client, team):
    """Rule: a refunded seat's certificate says only that it is no longer valid, without the name."""
    seat = team.seats.get(position=1)
    certificate = _certificate(client, seat)
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.REFUNDED)
    response = client.get(f"/certificates/{certificate.code}/")
    assert response.status_code == 410
    html = response.content.decode()
    assert "no longer valid" in html and "Ana Diaz" not in html


def test_a_certificate_check_says_nothing_about_the_order_or_other_attendees(client, team):
    """Rule: the check shows the name, workshop and hours only: no email, school, order or teammate."""
    certificate = _certificate(client, team.seats.get(position=1))
    html = client.get(f"/certificates/{certificate.code}/").content.decode()
    assert "Ana Diaz" in html
    for private in ("ana@school.example", "Ben Okafor", "maya@lincoln.example", team.reference, team.organisation,
                    team.token, team.seats.get(position=1).token):
        assert private not in html, private


@pytest.mark.parametrize("refund", ["seat", "order"])
def test_a_refunded_attendees_link_stops_working_everywhere(client, team, refund):
    """Rule: once a seat (or its order) is refunded, its link opens nothing: page, calendars, certificate, pre-work."""
    seat = team.seats.get(position=1)
    complete_seat(seat)
    if refund == "seat":
        Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.REFUNDED)
    else:
        Order.objects.filter(pk=team.pk).update(status=Order.Status.REFUNDED)
    module = team.workshop.prework_modules.first()
    for suffix in ("", "calendar.ics", "sessions/1/calendar.ics", "certificate.pdf", f"prework/{module.pk}/",
                   f"prework/{module.pk}/file/"):
        assert client.get(f"/seats/{seat.token}/{suffix}").status_code == 404, suffix
    for suffix in ("affinity/", "time-zone/", f"prework/{module.pk}/"):
        assert client.post(f"/seats/{seat.token}/{suffix}", {}).status_code == 404, suffix
    assert not Certificate.objects.filter(seat=seat).exists()


def test_private_downloads_and_the_certificate_check_are_never_stored(client, team):
    """Rule: every response reached by a seat token or a certificate code is sent no-store, private."""
    seat = team.seats.get(position=1)
    certificate = _certificate(client, seat)
    for url in (f"/seats/{seat.token}/certificate.pdf", f"/seats/{seat.token}/sessions/1/calendar.ics",
                f"/certificates/{certificate.code}/", f"/certificates/{certificate.code.lower()}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], url


def test_calendar_files_carry_no_meeting_link_name_or_email(client, team):
    """Rule: a calendar file (which people forward and sync) holds no Zoom link and no personal detail."""
    seat = team.seats.get(position=1)
    for url in (f"/seats/{seat.token}/calendar.ics", f"/seats/{seat.token}/sessions/2/calendar.ics"):
        text = client.get(url).content.decode()
        assert "zoom.example" not in text
        for private in ("Ana", "ana@school.example", "maya@lincoln.example", team.organisation, team.token):
            assert private not in text, (url, private)
