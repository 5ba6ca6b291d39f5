"""The error pages on a 375px phone: they fit, pass axe, and show the contact address and "Email me my links"."""

import pytest

from tests.e2e.helpers import audit, expect, phone_layout_problems, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.urls("tests.support.error_urls")]


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/test-errors/broken/", 500, "Something went wrong on our side"),
        ("/test-errors/suspicious/", 400, "We could not read that request"),
        ("/test-errors/forbidden/", 403, "You cannot open this page"),
        ("/orders/this-link-is-old-and-no-longer-works-xxxx/", 404, "We could not find that page"),
    ],
)
def test_error_pages_fit_a_phone_and_say_how_to_reach_us(phone_page, axe_source, settings, path, status, heading):
    settings.CONTACT_EMAIL = "help@equity.example"
    response = phone_page.goto(path)
    assert response.status == status
    phone_page.page_errors[:] = [e for e in phone_page.page_errors if not e.startswith(f"HTTP {status}: ")]
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(phone_page.locator('a[href="mailto:help@equity.example"]').first).to_be_visible()
    expect(phone_page.get_by_role("link", name="Email me my links").first).to_be_visible()
    assert phone_layout_problems(phone_page) == []
    audit(phone_page, axe_source, f"{status} page")
    screenshot(phone_page, f"error-{status}-phone")
