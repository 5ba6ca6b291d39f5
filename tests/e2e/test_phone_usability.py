"""Usability at a 375px phone width, found by a tester: the registration form shows the affinity-group choice
only to a buyer who attends."""

import pytest

from tests.e2e.helpers import expect, screenshot
from tests.e2e.pages import SLUG

pytestmark = pytest.mark.e2e


def test_the_affinity_choice_shows_only_while_the_buyer_attends(phone_page):
    page = phone_page
    page.goto(f"/workshops/{SLUG}/register/")
    attends = page.get_by_label("I will attend myself")
    section = page.get_by_role("group", name="Your affinity group (optional)")
    expect(section).to_be_visible()
    attends.uncheck()
    expect(section).to_be_hidden()
    screenshot(page, "register-not-attending-phone")
    attends.check()
    expect(section).to_be_visible()
