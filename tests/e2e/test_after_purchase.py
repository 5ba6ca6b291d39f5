"""After paying: an attendee works through the pre-work from their own seat link."""

import re

import pytest

from registrations.models import PreworkCompletion
from tests.e2e.helpers import audit, expect, screenshot
from tests.e2e.pages import paid_team_order

pytestmark = pytest.mark.e2e


def test_attendee_opens_their_seat_page_and_ticks_off_the_prework(page, axe_source):
    order = paid_team_order()
    seat = order.seats.get(position=2)  # Luis Ortega, named by his team lead
    page.goto(seat.get_absolute_url())  # the private link from his welcome email

    expect(page.get_by_role("heading", level=1)).to_have_text("Using Racial Affinity Groups in Schools")
    expect(page.get_by_text("Welcome, Luis Ortega.")).to_be_visible()
    prework = page.get_by_role("region", name="Pre-work")
    progress = prework.locator("[data-prework-progress]")
    expect(progress).to_have_text("0 of 120 minutes done")
    audit(page, axe_source, "pre-work not started")

    # Each module opens on its own page, with its reading and the button to mark it done.
    prework.get_by_role("link", name="Open “Racial identity development: a framework”").click()
    expect(page.get_by_role("link", name=re.compile(r"Download racial-identity-reflection-worksheet\.pdf"))).to_be_visible()
    audit(page, axe_source, "a pre-work module")
    page.get_by_role("button", name="Mark “Racial identity development: a framework” as done").click()
    expect(page).to_have_url(re.compile(r"#module-\d+$"))
    prework = page.get_by_role("region", name="Pre-work")
    expect(prework.locator("[data-prework-progress]")).to_have_text("60 of 120 minutes done")
    expect(prework.get_by_role("button", name=re.compile("Undo: mark “Racial identity development"))).to_be_visible()

    prework.get_by_role("link", name="Open “What racial affinity groups are (and are not)”").click()
    page.get_by_role("button", name="Mark “What racial affinity groups are (and are not)” as done").click()
    prework = page.get_by_role("region", name="Pre-work")
    expect(prework.locator("[data-prework-progress]")).to_have_text("120 of 120 minutes done")
    expect(prework.get_by_text("Done", exact=True)).to_have_count(2)
    screenshot(page, "seat-prework-done-desktop")
    audit(page, axe_source, "pre-work done")

    # His team lead sees the progress on the order page (and nothing about his access needs).
    page.goto(order.get_absolute_url())
    expect(page.locator("#seat-2")).to_contain_text("pre-work done")
    done = PreworkCompletion.objects.filter(seat=seat).values_list("module__title", flat=True)
    assert sorted(done) == ["Racial identity development: a framework", "What racial affinity groups are (and are not)"]
