"""Contact and policy pages: a contact address on every page, three policy pages staff edit in admin."""

import pytest
from django.test import override_settings

from support.models import PolicyPage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/privacy/", "/links/", "/no-such-page/"])
@override_settings(CONTACT_EMAIL="help@district-workshops.example")
def test_every_page_footer_gives_the_contact_address_and_policy_links(client, workshop, path):
    html = client.get(path).content.decode()
    assert 'href="mailto:help@district-workshops.example"' in html
    for link in ('href="/refunds/"', 'href="/privacy/"', 'href="/accessibility/"', 'href="/links/"'):
        assert link in html


@pytest.mark.parametrize(
    ("path", "heading", "phrase"),
    [
        ("/refunds/", "Refunds and cancellation", "full refund"),
        ("/privacy/", "Privacy", "Team leads never see attendees' access needs, their private links, or their affinity groups."),
        ("/accessibility/", "Accessibility", "live captions"),
    ],
)
def test_policy_pages_exist_with_default_text(client, path, heading, phrase):
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1 class=\"h2\">{heading}</h1>" in html
    assert phrase.replace("'", "&#x27;") in html


def test_privacy_page_says_who_sees_what_and_when_it_is_deleted(client):
    text = PolicyPage.objects.get(kind="privacy").body
    assert "Coordinators and the facilitators of your sessions see affinity group choices" in text
    assert "Access needs and affinity group choices are deleted after the workshop ends." in text


def test_staff_edit_a_policy_page_in_admin_and_the_page_shows_it(staff_client, client):
    page = PolicyPage.objects.get(kind="refunds")
    response = staff_client.post(
        f"/admin/support/policypage/{page.pk}/change/",
        {"title": "Refunds", "summary": "Our promise.", "body": "## Before the workshop\n- Full refund <always>\n\nThen nothing."},
    )
    assert response.status_code == 302
    html = client.get("/refunds/").content.decode()
    assert '<h2 class="h4 mt-4">Before the workshop</h2>' in html
    assert "<ul><li>Full refund &lt;always&gt;</li></ul>" in html  # staff text is escaped, never raw HTML
    assert "<p>Then nothing.</p>" in html


def test_staff_cannot_add_or_delete_policy_pages(staff_client):
    page = PolicyPage.objects.get(kind="privacy")
    assert staff_client.get("/admin/support/policypage/add/").status_code == 403
    assert staff_client.post(f"/admin/support/policypage/{page.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PolicyPage.objects.filter(kind="privacy").exists()


def test_the_site_has_a_favicon(client):
    html = client.get("/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.ico"


def test_leaving_the_waitlist_asks_for_a_confirmation_first(client):
    from django.utils import timezone

    from cohorts.models import Cohort, WaitlistEntry

    cohort = Cohort.objects.create(title="Course", slug="course", summary="s", start_month=timezone.now().date().replace(day=1))
    entry = WaitlistEntry.objects.create(cohort=cohort, name="Ana", email="ana@school.example")
    html = client.get(entry.get_absolute_url()).content.decode()
    confirm = html[html.index("data-leave-confirm"):]
    assert confirm.index("<summary") < confirm.index("Yes, leave the waitlist</button>")
    assert ">Leave the waitlist</button>" not in html


def test_the_starting_policy_texts_are_marked_in_admin_as_not_yet_confirmed(staff_client):
    listing = staff_client.get("/admin/support/policypage/").content.decode()
    assert "Not yet confirmed by staff: " in listing
    for title in ("Refunds and cancellation", "Privacy", "Accessibility"):
        assert title in listing
    page = PolicyPage.objects.get(kind="refunds")
    form = staff_client.get(f"/admin/support/policypage/{page.pk}/change/").content.decode()
    assert "data-policy-not-reviewed" in form and "Starting text, not yet confirmed by staff" in form
    assert 'name="is_reviewed"' in form


def test_staff_confirm_a_policy_text_and_the_notes_go(staff_client):
    page = PolicyPage.objects.get(kind="refunds")
    response = staff_client.post(
        f"/admin/support/policypage/{page.pk}/change/",
        {"title": page.title, "summary": page.summary, "body": page.body, "is_reviewed": "on"},
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.is_reviewed
    form = staff_client.get(f"/admin/support/policypage/{page.pk}/change/").content.decode()
    assert "data-policy-not-reviewed" not in form and "Confirmed by staff." in form
    listing = staff_client.get("/admin/support/policypage/").content.decode()
    assert "Not yet confirmed by staff: Accessibility, Privacy." in listing
    PolicyPage.objects.update(is_reviewed=True)
    assert "Not yet confirmed by staff" not in staff_client.get("/admin/support/policypage/").content.decode()
