"""Staff on the day: log in to admin, mark who came to session 1, and export the roster."""

import csv
import re

import pytest

from registrations.models import Attendance
from tests.e2e.helpers import expect, screenshot
from tests.e2e.pages import paid_team_order, pending_order
from tests.factories import OrderFactory, WorkshopFactory

pytestmark = pytest.mark.e2e


def test_staff_member_marks_attendance_and_exports_the_roster(page, django_user_model):
    django_user_model.objects.create_user("rosa", "rosa@esl.example", "a-long-staff-password", is_staff=True,
                                          is_superuser=True)
    order = paid_team_order(seats=["Denise Okafor", "Luis Ortega", "Priya Natarajan"])
    pending_order()  # unpaid: not on the roster
    other = WorkshopFactory(title="Affinity Groups: Facilitation Lab")
    OrderFactory(workshop=other, buyer_name="Ana Ruiz", seats=["Ana Ruiz"])  # another workshop's roster

    page.goto("/admin/")
    page.get_by_label("Username").fill("rosa")
    page.get_by_label("Password").fill("a-long-staff-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Roster", exact=True).click()
    page.locator("#changelist-filter").get_by_role("link", name="Using Racial Affinity Groups in Schools").click()
    expect(page).to_have_url(re.compile(r"order__workshop__id__exact=\d+"))

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(5)  # the paid order's five seats; the pending order's seat is not there
    expect(page.locator("#result_list")).not_to_contain_text("Maya Chen")
    expect(page.locator("#result_list")).not_to_contain_text("Ana Ruiz")
    screenshot(page, "admin-roster-desktop")

    for name in ("Luis Ortega", "Priya Natarajan"):
        rows.filter(has_text=name).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label="Mark attended: session 1")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text("Marked session 1 attendance for 2 attendee(s).")
    rows = page.locator("#result_list tbody tr")
    expect(rows.filter(has_text="Luis Ortega").locator("td.field-attended_session_1 img")).to_have_attribute("alt", "True")
    expect(rows.filter(has_text="Denise Okafor").locator("td.field-attended_session_1 img")).to_have_attribute("alt", "False")
    attended = Attendance.objects.filter(session__title="Live session 1").values_list("seat__attendee_name", flat=True)
    assert sorted(attended) == ["Luis Ortega", "Priya Natarajan"]

    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option(label="Export selected to CSV")
    with page.expect_download() as download_info:
        page.locator("button[name=index]").click()
    download = download_info.value
    assert re.fullmatch(r"roster-\d{8}-\d{4}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert [row["Order"] for row in table] == [order.reference] * 5
    by_name = {row["Attendee"]: row for row in table if row["Attendee"]}
    assert sorted(by_name) == ["Denise Okafor", "Luis Ortega", "Priya Natarajan"]
    assert {name: row["Attended session 1"] for name, row in by_name.items()} == {
        "Denise Okafor": "no", "Luis Ortega": "yes", "Priya Natarajan": "yes"
    }
