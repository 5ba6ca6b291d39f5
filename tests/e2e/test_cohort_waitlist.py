"""A visitor joins the year-long course's waitlist from the home page and, from the emailed link, sees their place."""

import re

import pytest

from tests.e2e.helpers import audit, expect, phone_layout_problems, screenshot

pytestmark = pytest.mark.e2e


def someone_already_waiting():
    from cohorts.models import Cohort
    from cohorts.services import EntryDetails, join_waitlist

    join_waitlist(
        cohort=Cohort.objects.get(),
        details=EntryDetails(name="First Inline", email="first@school.example", role="teacher"),
    )


def test_visitor_joins_the_cohort_waitlist_as_a_team_and_sees_their_place(page, axe_source):
    from cohorts.models import WaitlistEntry

    someone_already_waiting()
    page.goto("/")
    page.get_by_role("link", name="Join the waitlist").click()
    expect(page).to_have_url(re.compile(r"/cohorts/[\w-]+/#waitlist$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Year-Long Cohort")
    form = page.get_by_role("complementary", name="Join the waitlist")
    audit(page, axe_source, "waitlist form, empty")

    form.get_by_label("Your full name").fill("Keisha Brown")
    form.get_by_label("Your email").fill("kbrown@district.example")
    form.get_by_label("Your role").select_option(label="District leader")
    form.get_by_label("A team from my school or district").check()
    form.get_by_role("button", name="Join the waitlist").click()

    form = page.get_by_role("complementary", name="Join the waitlist")
    expect(form.get_by_role("alert")).to_contain_text("Please check the highlighted fields")
    size = form.get_by_label("Team size (people, including you)")
    expect(size).to_have_attribute("aria-invalid", "true")
    expect(size).to_have_accessible_description(re.compile("How many people are in your team"))
    organisation = form.get_by_label("School, district or organisation")
    expect(organisation).to_have_accessible_description(re.compile("which school, district or organisation"))
    expect(form.get_by_label("Your full name")).to_have_value("Keisha Brown")
    audit(page, axe_source, "waitlist form, errors")
    screenshot(page, "cohort-errors-desktop")

    size.fill("4")
    organisation.fill("Riverside Unified")
    form.get_by_role("button", name="Join the waitlist").click()

    # The same answer whoever's address it is: the private page's link goes only to that inbox.
    expect(page).to_have_url(re.compile(r"/cohorts/[\w-]+/#waitlist$"))
    expect(page.get_by_role("status")).to_contain_text("We have emailed the link to your waitlist page to kbrown@district.example")
    audit(page, axe_source, "waitlist form, thanks")
    entry = WaitlistEntry.objects.get(email="kbrown@district.example")
    page.goto(entry.get_absolute_url())  # the link in the email
    expect(page.get_by_role("heading", name="You are number 2 in line")).to_be_visible()
    expect(page.get_by_text("A team of 4, Riverside Unified")).to_be_visible()
    audit(page, axe_source, "waitlist status, success")
    screenshot(page, "waitlist-status-desktop")
    assert (entry.kind, entry.team_size, entry.status) == ("team", 4, "waiting")


def test_waitlist_status_page_fits_a_phone(phone_page, axe_source):
    from cohorts.models import Cohort
    from cohorts.services import EntryDetails, join_waitlist

    someone_already_waiting()
    result = join_waitlist(
        cohort=Cohort.objects.get(),
        details=EntryDetails(name="Keisha Brown", email="kbrown@district.example", role="district_leader"),
    )
    phone_page.goto(result.entry.get_absolute_url())
    expect(phone_page.get_by_role("heading", name="You are number 2 in line")).to_be_visible()
    screenshot(phone_page, "waitlist-status-phone")
    assert phone_layout_problems(phone_page) == []
    audit(phone_page, axe_source, "375 x 812")
