"""Certificates of completion: when they are available, the PDF, public verification, revocation."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from registrations.models import Attendance, Certificate, Order, PreworkCompletion
from tests.factories import OrderFactory, WorkshopFactory, complete_seat

pytestmark = pytest.mark.django_db


@pytest.fixture
def seat(workshop):
    return OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"]).seats.get(position=1)


def pdf_text(content: bytes) -> str:
    """The strings drawn with Tj in an uncompressed PDF, decoded (octal escapes are cp1252 bytes)."""
    parts = []
    for raw in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", content):
        decoded = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
        decoded = re.sub(rb"\\(.)", rb"\1", decoded)
        parts.append(decoded.decode("cp1252"))
    return "\n".join(parts)


def download(client, seat):
    return client.get(f"/seats/{seat.token}/certificate.pdf")


# --- availability --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prework, sessions",
    [(False, 2), (True, 1), (True, 0), (False, 0)],
    ids=["pre-work missing", "second session missed", "no sessions", "nothing done"],
)
def test_no_certificate_until_everything_is_done(client, seat, prework, sessions):
    complete_seat(seat, prework=prework, sessions=sessions)
    response = download(client, seat)
    assert response.status_code == 302
    assert response["Location"].endswith("#certificate")
    page = client.get(response["Location"]).content.decode()
    assert "becomes available once all the pre-work is done" in page
    assert "certificate.pdf" not in page
    assert not Certificate.objects.exists()


def test_one_module_short_is_not_enough(client, seat, workshop):
    complete_seat(seat)
    PreworkCompletion.objects.filter(seat=seat, module=workshop.prework_modules.last()).delete()
    assert download(client, seat).status_code == 302
    assert not Certificate.objects.exists()


def test_certificate_is_available_once_prework_and_both_sessions_are_done(client, seat):
    complete_seat(seat)
    page = client.get(f"/seats/{seat.token}/").content.decode()
    assert f'href="/seats/{seat.token}/certificate.pdf"' in page
    response = download(client, seat)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    certificate = Certificate.objects.get(seat=seat)
    assert f'filename="certificate-{certificate.code}.pdf"' in response["Content-Disposition"]


def test_the_seat_page_shows_what_is_still_missing(client, seat):
    complete_seat(seat, sessions=1)
    page = client.get(f"/seats/{seat.token}/").content.decode()
    assert "Live sessions attended: 1 of 2" in page
    assert "Pre-work: done" in page


def test_attendance_at_another_workshop_does_not_count(client, seat):
    complete_seat(seat, sessions=1)
    other_session = WorkshopFactory().sessions.first()
    Attendance.objects.create(seat=seat, session=other_session)
    assert download(client, seat).status_code == 302


def test_a_pending_order_gets_no_certificate(client, seat):
    complete_seat(seat)
    Order.objects.filter(pk=seat.order_id).update(status=Order.Status.PENDING)
    assert download(client, seat).status_code == 302
    assert not Certificate.objects.exists()


# --- the PDF -------------------------------------------------------------------------------------


def test_pdf_opens_and_names_the_attendee_workshop_dates_and_hours(client, seat, workshop):
    complete_seat(seat)
    content = download(client, seat).content
    assert content.startswith(b"%PDF")
    assert content.rstrip().endswith(b"%%EOF")
    assert b"Ana Diaz" in content
    text = pdf_text(content)
    certificate = Certificate.objects.get()
    first, second = [s.starts_at.astimezone(workshop.tz) for s in workshop.sessions.order_by("starts_at")]
    assert workshop.title in text
    assert "6 hours of professional development: 2 hours of pre-work and 4 hours of live sessions" in text
    assert f"{first:%B} {first.day}" in text and f"{second:%B} {second.day}" in text
    assert f"Verification code: {certificate.code}" in text
    assert f"/certificates/{certificate.code}/" in text


def test_pdf_prints_accented_names(client, seat):
    seat.attendee_name = "José Núñez-O'Brien (Ed.D.)"
    seat.save()
    complete_seat(seat)
    content = download(client, seat).content
    assert "José Núñez-O'Brien (Ed.D.)" in pdf_text(content)


def test_pdf_is_produced_for_a_name_beyond_western_european_letters(client, seat):
    seat.attendee_name = "Nguyễn Thị Lan 陈伟"
    seat.save()
    complete_seat(seat)
    response = download(client, seat)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_downloading_again_keeps_the_same_code(client, seat):
    complete_seat(seat)
    download(client, seat)
    first = Certificate.objects.get()
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        download(client, seat)
    again = Certificate.objects.get()
    assert (again.code, again.issued_at) == (first.code, first.issued_at)


def test_codes_are_twelve_unambiguous_characters(client, workshop):
    for name in ["Ana Diaz", "Ben Okafor", "Cara Lee", "Dev Patel", "Eve Adams"]:
        seat = OrderFactory(workshop=workshop, seats=[name]).seats.get()
        complete_seat(seat)
        download(client, seat)
    codes = set(Certificate.objects.values_list("code", flat=True))
    assert len(codes) == 5
    assert all(re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{12}", code) for code in codes)


# --- verification --------------------------------------------------------------------------------


def test_verification_page_confirms_a_real_code(client, seat, workshop):
    complete_seat(seat)
    download(client, seat)
    certificate = Certificate.objects.get()
    response = client.get(f"/certificates/{certificate.code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "This certificate is genuine" in html
    assert "Ana Diaz" in html and workshop.title in html
    assert "<dd class=\"col-sm-8\">6 (2 h pre-work, 4 h live)</dd>" in html
    issued = certificate.issued_at.astimezone(workshop.tz)
    assert f"{issued:%B} {issued.day}, {issued.year}" in html
    assert "Ben Okafor" not in html and seat.token not in html


def test_verification_forgives_case_and_dashes(client, seat):
    complete_seat(seat)
    download(client, seat)
    code = Certificate.objects.get().code
    typed = f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()
    assert client.get(f"/certificates/{typed}/").status_code == 200


@pytest.mark.parametrize("code", ["ABCDEFGHJKMN", "abc", "0" * 12, "A" * 200, "%00" * 12, "ABCDEFGHJKM%F0%9F%98%80"])
def test_verification_page_is_404_for_a_made_up_code(client, seat, code):
    complete_seat(seat)
    download(client, seat)
    assert client.get(f"/certificates/{code}/").status_code == 404


# --- revocation and staff --------------------------------------------------------------------------


def issued(client, seat) -> Certificate:
    complete_seat(seat)
    download(client, seat)
    return Certificate.objects.get(seat=seat)


def test_a_revoked_certificate_says_so_and_cannot_be_downloaded(client, staff_client, seat):
    certificate = issued(client, seat)
    staff_client.post(
        "/admin/registrations/certificate/",
        {"action": "revoke_certificates", "_selected_action": [certificate.pk]},
    )
    response = client.get(f"/certificates/{certificate.code}/")
    assert response.status_code == 410
    assert "This certificate has been revoked" in response.content.decode()
    assert download(client, seat).status_code == 302
    assert "withdrawn" in client.get(f"/seats/{seat.token}/").content.decode()


def test_staff_can_reinstate_a_revoked_certificate_with_the_same_code(client, staff_client, seat):
    certificate = issued(client, seat)
    Certificate.objects.filter(pk=certificate.pk).update(revoked_at=timezone.now())
    staff_client.post(
        "/admin/registrations/rosterseat/", {"action": "issue_certificates", "_selected_action": [seat.pk]}
    )
    again = Certificate.objects.get(seat=seat)
    assert again.code == certificate.code and again.revoked_at is None
    assert client.get(f"/certificates/{certificate.code}/").status_code == 200


def test_staff_issue_only_to_seats_that_completed(client, staff_client, workshop):
    order = OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    ana, ben = order.seats.order_by("position")
    complete_seat(ana)
    complete_seat(ben, sessions=1)
    response = staff_client.post(
        "/admin/registrations/rosterseat/",
        {"action": "issue_certificates", "_selected_action": [ana.pk, ben.pk]},
        follow=True,
    )
    assert list(Certificate.objects.values_list("seat_id", flat=True)) == [ana.pk]
    assert "Ben Okafor" in response.content.decode()  # named in the "not complete yet" message


def test_certificate_admin_lists_and_searches(client, staff_client, seat):
    certificate = issued(client, seat)
    response = staff_client.get(f"/admin/registrations/certificate/?q={certificate.code}")
    assert response.status_code == 200
    assert "Ana Diaz" in response.content.decode()
