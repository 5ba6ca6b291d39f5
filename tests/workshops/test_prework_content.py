"""Pre-work modules have something to open: a link, instructions or a file staff attach in admin; the
attendee's checklist opens each one, and only that attendee can download its file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.factories import OrderFactory
from workshops.models import PreworkFile, PreworkModule

pytestmark = pytest.mark.django_db


@pytest.fixture
def module(workshop):
    return workshop.prework_modules.get(position=1)


@pytest.fixture
def seat(workshop):
    return OrderFactory(workshop=workshop, seats=["Ana Diaz"]).seats.get()


def admin_post(staff_client, module, **extra):
    data = {"workshop": module.workshop_id, "position": 1, "title": module.title, "minutes": 60, "url": "", "body": "", **extra}
    return staff_client.post(f"/admin/workshops/preworkmodule/{module.pk}/change/", data)


def test_staff_attach_a_file_and_the_attendee_downloads_it(staff_client, client, module, seat):
    upload = SimpleUploadedFile("reading.pdf", b"%PDF-1.4 the reading", content_type="application/pdf")
    assert admin_post(staff_client, module, upload=upload).status_code == 302
    page = client.get(f"/seats/{seat.token}/prework/{module.pk}/").content.decode()
    assert f'href="/seats/{seat.token}/prework/{module.pk}/file/" data-module-file>Download reading.pdf (1 KB)</a>' in page
    response = client.get(f"/seats/{seat.token}/prework/{module.pk}/file/")
    assert response.content == b"%PDF-1.4 the reading"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_module_with_nothing_to_open_is_refused_in_admin(staff_client, module):
    response = admin_post(staff_client, module)
    assert response.status_code == 200
    assert "Give attendees something to open: a link, instructions, or a file." in response.content.decode()


def test_staff_remove_a_file(staff_client, module):
    PreworkFile.objects.create(module=module, name="old.pdf", size=3, data=b"old")
    assert admin_post(staff_client, module, body="Read this.", remove_file="on").status_code == 302
    assert not PreworkFile.objects.filter(module=module).exists()


def test_a_file_too_large_is_refused_beside_the_field(staff_client, module, settings):
    settings.PREWORK_FILE_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.pdf", b"x" * 11, content_type="application/pdf")
    response = admin_post(staff_client, module, upload=upload)
    assert "Files can be up to" in response.content.decode()
    assert not PreworkFile.objects.exists()


def test_another_workshops_file_is_not_reachable_from_a_seat(client, seat):
    other = OrderFactory(seats=["Ben Okafor"]).workshop.prework_modules.get(position=1)
    PreworkFile.objects.create(module=other, name="other.pdf", size=5, data=b"other")
    assert client.get(f"/seats/{seat.token}/prework/{other.pk}/file/").status_code == 404
    assert client.get(f"/seats/{seat.token}/prework/{other.pk}/").status_code == 404


def test_the_file_needs_the_seat_link(client, module):
    PreworkFile.objects.create(module=module, name="r.pdf", size=1, data=b"r")
    assert client.get(f"/seats/{'x' * 43}/prework/{module.pk}/file/").status_code == 404


def test_the_demo_modules_have_real_content_and_a_worksheet(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    modules = list(PreworkModule.objects.filter(workshop__slug="using-racial-affinity-groups-in-schools"))
    assert len(modules) == 2
    assert all(len(m.body) > 500 for m in modules)
    assert "racial affinity groups are not racist" in modules[1].body
    worksheet = PreworkFile.objects.get(module=modules[0])
    assert bytes(worksheet.data).startswith(b"%PDF") and worksheet.name.endswith(".pdf")


def test_duplicating_a_workshop_copies_its_files(staff_client, workshop, module):
    PreworkFile.objects.create(module=module, name="r.pdf", size=1, data=b"r")
    staff_client.post("/admin/workshops/workshop/", {"action": "duplicate_for_next_year", "_selected_action": [workshop.pk]})
    copies = PreworkFile.objects.filter(name="r.pdf")
    assert copies.count() == 2
