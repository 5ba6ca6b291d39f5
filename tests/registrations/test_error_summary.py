"""The summary at the top of a form that comes back with errors lists each field in error as a link to that field, for
every part of the registration form (the buyer, the payment choice, the attendees), so a phone user whose focus lands
on the summary reaches a field marked thousands of pixels further down in one step."""

import re

import pytest

from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data

pytestmark = pytest.mark.django_db


def summary_links(html: str) -> dict[str, str]:
    """The summary's links: their text, by the id they point to."""
    summary = html.split('class="mb-0 mt-1 form-error-links"')[1].split("</ul>")[0]
    return {target: text for target, text in re.findall(r'<a class="alert-link" href="#([^"]+)">([^<]+)</a>', summary)}


def test_an_invoice_without_billing_details_lists_each_billing_field_linked_to_its_input(client):
    workshop = WorkshopFactory()
    html = client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=5, payment_method="invoice")).content.decode()
    links = summary_links(html)
    assert links, "no links in the summary"
    for target in links:
        assert f'id="{target}"' in html, f"the summary links to #{target}, which is not on the page"
    assert any("billing" in target for target in links), links
    assert "{#" not in html and "#}" not in html, "a template comment is shown as text"


def test_an_attendee_row_in_error_is_named_by_its_row(client):
    workshop = WorkshopFactory()
    data = registration_data(seat_count=2, attendees=[("Ana Diaz", "not-an-email")])
    links = summary_links(client.post(f"/workshops/{workshop.slug}/register/", data).content.decode())
    assert "Attendee 1: Email" in links.values(), links


def test_the_typed_values_stay_when_the_summary_is_shown(client):
    workshop = WorkshopFactory()
    data = registration_data(seat_count=5, payment_method="invoice", organisation="Roosevelt High")
    html = client.post(f"/workshops/{workshop.slug}/register/", data).content.decode()
    assert 'value="Roosevelt High"' in html
