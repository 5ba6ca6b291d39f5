"""Error pages say how to reach us and offer "Email me my links"; the 500 and 400 pages render with nothing but
settings (no request, context processor or database), and fall back to plain HTML if their template fails."""

import copy

import pytest
from django.conf import settings as django_settings
from django.test import Client

pytestmark = pytest.mark.urls("tests.support.error_urls")

CONTACT = "help@equity.example"


@pytest.fixture(autouse=True)
def contact(settings):
    settings.CONTACT_EMAIL = CONTACT


def exploding_context_processor(request):
    raise RuntimeError("a context processor that needs the database, which is down")


@pytest.fixture
def no_context_processors_work(settings):
    templates = copy.deepcopy(django_settings.TEMPLATES)
    templates[0]["OPTIONS"]["context_processors"].append("tests.support.test_error_pages.exploding_context_processor")
    settings.TEMPLATES = templates


def get(path: str, **extra):
    return Client(raise_request_exception=False).get(path, **extra)


def test_the_500_page_names_the_contact_address_and_the_lost_links_page(db):
    response = get("/test-errors/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert f'<a href="mailto:{CONTACT}" data-contact-email>{CONTACT}</a>' in html
    assert '<a href="/links/">Email me my links</a>' in html


def test_the_500_page_needs_no_context_processor(db, no_context_processors_work):
    response = get("/test-errors/broken/")
    assert response.status_code == 500
    assert CONTACT in response.content.decode()


def test_the_500_page_needs_no_database(django_db_blocker):
    # No `db` fixture: any query the error page made would raise.
    with django_db_blocker.block():
        response = get("/test-errors/broken/")
    assert response.status_code == 500
    assert f"mailto:{CONTACT}" in response.content.decode()


def test_when_the_500_template_itself_fails_a_plain_page_still_names_the_contact(db, settings, tmp_path):
    (tmp_path / "500.html").write_text("{% url 'no-such-page' %}")
    templates = copy.deepcopy(django_settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
    response = get("/test-errors/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and f'<a href="mailto:{CONTACT}">{CONTACT}</a>' in html
    assert '<a href="/links/">' in html


def test_the_400_page_names_the_contact_address_and_the_lost_links_page(db):
    response = get("/test-errors/suspicious/")
    assert response.status_code == 400
    html = response.content.decode()
    assert "We could not read that request" in html
    assert f"mailto:{CONTACT}" in html and '<a href="/links/">Email me my links</a>' in html


def test_an_unknown_host_gets_the_400_page_without_its_host_being_read(db):
    response = get("/", HTTP_HOST="not-our-site.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert f"mailto:{CONTACT}" in html and "not-our-site.example" not in html


def test_the_403_page_names_the_contact_address_and_the_lost_links_page(db):
    response = get("/test-errors/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot open this page" in html
    assert f"mailto:{CONTACT}" in html and ">Email me my links</a>" in html


def test_an_expired_form_gets_a_page_saying_what_to_do(db):
    response = Client(enforce_csrf_checks=True).post("/links/", {"email": "ana@school.example"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form has expired" in html and "reload the page" in html
    assert f"mailto:{CONTACT}" in html and ">Email me my links</a>" in html


def test_the_404_page_names_the_contact_address_and_the_lost_links_page(db):
    response = get("/orders/not-a-real-token-at-all-xxxxxxxx/")
    assert response.status_code == 404
    html = response.content.decode()
    assert f"mailto:{CONTACT}" in html and ">Email me my links</a>" in html
