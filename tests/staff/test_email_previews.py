"""Every email the site sends can be read in admin, filled in with sample data, without sending or saving anything."""

from html import unescape
from pathlib import Path

import pytest
from django.conf import settings

from registrations.models import Order, OutboundEmail
from staff.previews import CATALOGUE
from workshops.models import Workshop

pytestmark = pytest.mark.django_db

PREVIEWS = "/admin/email-previews/"


def email_templates() -> set[tuple[str, str]]:
    found = set()
    for root in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(root).glob("*/email/*.txt"):
            if not path.name.startswith("_"):  # a partial, included in other emails
                found.add((path.parent.parent.name, path.stem))
    return found


def test_every_email_template_has_a_preview():
    assert email_templates() == set(CATALOGUE)


def test_the_previews_page_lists_every_email(staff_client):
    html = staff_client.get(PREVIEWS).content.decode()
    for app, name in CATALOGUE:
        assert f'href="{PREVIEWS}{app}/{name}/"' in html


@pytest.mark.parametrize("app, name", sorted(CATALOGUE))
def test_each_email_renders_with_sample_data(staff_client, app, name):
    response = staff_client.get(f"{PREVIEWS}{app}/{name}/")
    assert response.status_code == 200
    html = response.content.decode()
    text = html[html.index("data-email-text>") : html.index("</pre>")]
    assert len(text) > 200
    assert "None" not in text and "{{" not in text and "{%" not in text
    assert settings.SITE_NAME in text
    assert any(person in text for person in ("Maya Johnson", "Luis Ortega", "Dana Reyes", "Priya Natarajan", "Hello,"))


def test_each_preview_shows_the_html_part_and_the_footer_people_receive(staff_client):
    html = staff_client.get(f"{PREVIEWS}registrations/refund_made/").content.decode()
    assert 'class="email-html"' in html
    text = html[html.index("data-email-text>") : html.index("</pre>")]
    assert settings.CONTACT_EMAIL in text and "Lost a link?" in text


def test_previews_save_and_send_nothing(staff_client, mailoutbox):
    for app, name in CATALOGUE:
        staff_client.get(f"{PREVIEWS}{app}/{name}/")
    assert not Order.objects.exists() and not Workshop.objects.exists() and not OutboundEmail.objects.exists()
    assert mailoutbox == []


def test_an_email_with_versions_can_show_each(staff_client):
    html = staff_client.get(f"{PREVIEWS}registrations/invoice_issued/?variant=buyer").content.decode()
    assert "Hello Maya Johnson" in html and "we have invoiced Dana Reyes" in html
    billing = staff_client.get(f"{PREVIEWS}registrations/invoice_issued/").content.decode()
    assert "Hello Dana Reyes" in billing


def test_the_session_reminder_shows_each_affinity_case(staff_client):
    url = f"{PREVIEWS}registrations/session_reminder/"
    assert 'Your breakout room is planned as "Multiracial 2"' in unescape(staff_client.get(url).content.decode())
    assert "You have not chosen an affinity group" in staff_client.get(f"{url}?variant=not chosen yet").content.decode()
    assert "affinity" not in staff_client.get(f"{url}?variant=no affinity groups").content.decode().split("data-email-text>")[1]


def test_the_new_emails_read_as_intended(staff_client):
    refund = staff_client.get(f"{PREVIEWS}registrations/refund_made/").content.decode()
    assert "We have refunded $100.00" in refund and "5–10 business days" in refund
    handed_over = staff_client.get(f"{PREVIEWS}registrations/seat_released/").content.decode()
    assert "Hello Luis Ortega" in handed_over and "has given your seat to someone else" in handed_over
    corrected = staff_client.get(f"{PREVIEWS}registrations/seat_released/?variant=email corrected").content.decode()
    assert "has changed the email address for your seat" in corrected
    cancelled = staff_client.get(f"{PREVIEWS}registrations/order_cancelled/").content.decode()
    assert "has been cancelled and its seats released" in cancelled


def test_an_unknown_email_is_not_found(staff_client):
    assert staff_client.get(f"{PREVIEWS}registrations/nothing_like_this/").status_code == 404


def test_previews_are_for_staff_only(client):
    response = client.get(f"{PREVIEWS}registrations/order_confirmation/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
