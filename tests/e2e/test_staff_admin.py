"""Staff on the day: from the admin home to today's roster, mark who came, refund one seat, export the finance CSV.

Also: the admin screens staff use most fit a 1280 px laptop screen without sideways scrolling; their
screenshots are saved to docs/screenshots/ (the README's staff guide shows them).
"""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from cohorts.models import Cohort
from registrations.models import Attendance, Order, Payment, Refund, Seat, SeatAlert
from tests.cohorts.factories import WaitlistEntryFactory
from tests.e2e.helpers import audit, expect, screenshot
from tests.e2e.pages import demo_workshop, invoiced_order, paid_team_order, pending_order
from tests.factories import OrderFactory, WorkshopFactory, record_refund

pytestmark = pytest.mark.e2e

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "a-long-staff-password"


def log_in(page, django_user_model, username="rosa"):
    django_user_model.objects.create_user(username, f"{username}@esl.example", PASSWORD, is_staff=True, is_superuser=True)
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def a_week_of_sales():
    """The demo workshop with the orders a coordinator would see a week into sales."""
    order = paid_team_order(seats=["Denise Okafor", "Luis Ortega", "Priya Natarajan"])
    Seat.objects.filter(order=order, position=2).update(needs_captions=True, access_note="Prefers to sit near the front")
    OrderFactory(workshop=demo_workshop(), buyer_name="Maya Johnson", organisation="Lincoln Middle School",
                 buyer_email="maya@lincoln.example", seats=["Maya Johnson"], stripe_payment_intent_id="pi_local_maya",
                 is_test_payment=True)
    alicia = OrderFactory(workshop=demo_workshop(), seat_count=3, buyer_name="Alicia Lamb", seats=["Alicia Lamb", "Ben Okafor"],
                          organisation="Oakland Unified School District Office of Equity", refunded_seat_count=1,
                          refunded=12000, stripe_payment_intent_id="pi_local_alicia", is_test_payment=True)
    Seat.objects.filter(order=alicia, position=3).update(status=Seat.Status.REFUNDED)
    added = OrderFactory(workshop=demo_workshop(), seat_count=2, kind=Order.Kind.ADDITION, parent=order, seats=[],
                         status=Order.Status.MERGED, total_cents=20000, unit_price_cents=10000, tier_min_seats=5,
                         stripe_payment_intent_id="pi_local_added", is_test_payment=True)
    Payment.objects.create(order=added, amount_cents=20000, currency="usd", source=Payment.Source.LOCAL,
                           stripe_payment_intent_id="pi_local_added", received_at=added.paid_at)
    # Once paid, added seats join their order: it has 7 seats and its total is what both payments took.
    Order.objects.filter(pk=order.pk).update(seat_count=7, total_cents=70000)
    Seat.objects.bulk_create([Seat(order=order, position=6), Seat(order=order, position=7)])
    Seat.objects.filter(order__kind=Order.Kind.ADDITION).delete()
    pending_order()
    invoiced_order()
    SeatAlert.objects.create(workshop=demo_workshop(), email="waiting@school.example")
    cohort = Cohort.objects.get()
    WaitlistEntryFactory(cohort=cohort, name="Keisha Brown", email="kbrown@riversideunified.example",
                         organisation="Riverside Unified School District Office of Equity and Inclusion",
                         kind="team", team_size=4)
    WaitlistEntryFactory(cohort=cohort, name="Tomás Ruiz", email="truiz@hillcrest.example", organisation="Hillcrest Elementary")
    return order


def sideways_scrolling(page) -> list[str]:
    """Anything wider than the window: the page itself, or a box inside it that scrolls sideways (a table)."""
    return page.evaluate(
        """() => {
        const problems = [];
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth > width) {
            problems.push(`page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
        }
        for (const el of document.querySelectorAll('body *')) {
            const style = getComputedStyle(el);
            if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
                problems.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ').join('.')} scrolls: ${el.scrollWidth}px in ${el.clientWidth}px`);
            }
        }
        return problems;
    }"""
    )


def save_for_the_readme(page, name: str) -> None:
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}.png"), full_page=True)
    screenshot(page, name)


def test_admin_screens_fit_a_laptop_screen(page, django_user_model, axe_source):
    order = a_week_of_sales()
    log_in(page, django_user_model)
    workshop = demo_workshop()
    screens = {
        "admin-home": "/admin/",
        "admin-orders": "/admin/registrations/order/",
        "admin-roster": f"/admin/registrations/rosterseat/?order__workshop__id__exact={workshop.pk}",
        "admin-waitlist": "/admin/cohorts/waitlistentry/",
        "admin-workshop-edit": f"/admin/workshops/workshop/{workshop.pk}/change/",
        "admin-order": f"/admin/registrations/order/{order.pk}/change/",
    }
    for name, path in screens.items():
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
        assert page.viewport_size["width"] == 1280
        save_for_the_readme(page, name)
        assert sideways_scrolling(page) == [], f"{name} ({path})"
        audit(page, axe_source, name)
    # The orders list shows every money column, the roster the attendance columns, without scrolling.
    page.goto("/admin/registrations/order/")
    for heading in ("Status", "Seats", "Total", "Paid", "Refunded", "Net", "Method"):
        expect(page.locator("#result_list thead")).to_contain_text(heading, ignore_case=True)


def test_the_admin_home_works_on_a_phone(phone_page, django_user_model):
    a_week_of_sales()
    log_in(phone_page, django_user_model)
    phone_page.goto("/admin/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Upcoming workshops")
    assert sideways_scrolling(phone_page) == []
    screenshot(phone_page, "admin-home-phone")


def test_from_the_home_page_staff_open_todays_roster_mark_attendance_and_refund_a_seat(page, django_user_model):
    order = a_week_of_sales()
    first, second = demo_workshop().sessions.order_by("starts_at")
    day = {n: f"{s.starts_at.astimezone(demo_workshop().tz):%b %-d}" for n, s in ((1, first), (2, second))}
    # The afternoon of the first live session, 4:30 pm Pacific.
    with time_machine.travel(first.starts_at + timedelta(minutes=30), tick=True):
        log_in(page, django_user_model)
        today = page.get_by_role("region", name="Today")
        expect(today).to_contain_text("Live session 1")
        save_for_the_readme(page, "guide-1-home-today")
        today.get_by_role("link", name="Open the roster and mark attendance").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Roster and attendance")

        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(10)  # the team's seven seats, Maya, Alicia's two left; not the pending order's seat
        for name in ("Luis Ortega", "Priya Natarajan"):
            rows.filter(has_text=name).get_by_role("checkbox").check()
        page.locator("select[name=action]").select_option(label=f"Mark attended: session 1 ({day[1]})")
        save_for_the_readme(page, "guide-2-mark-attendance")
        page.locator("button[name=index]").click()
        expect(page.locator(".messagelist")).to_contain_text("Marked session 1 attendance for 2 attendee(s).")
        rows = page.locator("#result_list tbody tr")
        expect(rows.filter(has_text="Luis Ortega").locator("td.field-attended_session_1 img")).to_have_attribute("alt", "True")
        expect(rows.filter(has_text="Denise Okafor").locator("td.field-attended_session_1 img")).to_have_attribute("alt", "False")
        expect(rows.filter(has_text="Denise Okafor").locator("td.field-attended_session_2")).to_have_text("not yet")
        assert sorted(Attendance.objects.values_list("seat__attendee_name", flat=True)) == ["Luis Ortega", "Priya Natarajan"]

        # Session 2 is two weeks away: the roster refuses to mark it.
        rows.filter(has_text="Denise Okafor").get_by_role("checkbox").check()
        page.locator("select[name=action]").select_option(label=f"Mark attended: session 2 ({day[2]})")
        page.locator("button[name=index]").click()
        expect(page.locator(".messagelist")).to_contain_text("attendance can be marked once it has started")

        # Maya cannot come after all: refund her one seat from the same roster.
        page.locator("#searchbar").fill("Maya")
        page.get_by_role("button", name="Search").click()
        page.locator("#result_list tbody tr").filter(has_text="Maya Johnson").get_by_role("checkbox").check()
        page.locator("select[name=action]").select_option(label="Refund selected seats through Stripe")
        page.locator("button[name=index]").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Refund these seats?")
        save_for_the_readme(page, "guide-3-refund-confirm")
        page.get_by_role("button", name=re.compile("Yes, refund")).click()
        expect(page.locator(".messagelist")).to_contain_text("refunded $120.00 for Maya Johnson. The buyer has been emailed.")

        # Finance wants the month's payments and refunds for the payout: one click from the home page.
        page.get_by_role("link", name="Home", exact=True).first.click()
        with page.expect_download() as download:
            page.locator(f'[data-workshop="{demo_workshop().slug}"]').get_by_role("link", name="Finance CSV").click()
        exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert ("Refund", "-120.00", "Maya Johnson") in [(r["Type"], r["Amount"], r["Purchaser"]) for r in exported]
    assert Refund.objects.get(order__buyer_name="Maya Johnson").amount_cents == 12000
    assert Seat.objects.get(attendee_name="Maya Johnson").status == Seat.Status.REFUNDED
    assert order.seats.filter(status=Seat.Status.ACTIVE).count() == 7


def choose_whole_order_refund(page, order) -> None:
    """From the Orders list: tick the order and run "Refund the whole order through Stripe" (its confirmation next)."""
    page.goto("/admin/registrations/order/")
    page.locator("#result_list tbody tr").filter(has_text=order.reference).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label="Refund the whole order through Stripe")
    page.locator("button[name=index]").click()


def test_a_whole_order_refund_asks_first_on_a_phone_and_is_confirmed_by_keyboard(phone_page, django_user_model, axe_source):
    order = paid_team_order()
    log_in(phone_page, django_user_model)
    choose_whole_order_refund(phone_page, order)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Refund these orders?")
    expect(phone_page.locator(".refund-confirm")).to_contain_text("Refund $500.00 and cancel 5 seats")
    assert sideways_scrolling(phone_page) == []
    yes, no = phone_page.get_by_role("button", name="Yes, refund through Stripe"), phone_page.get_by_role("link", name="No, take me back")
    assert min(yes.bounding_box()["height"], no.bounding_box()["height"]) >= 44  # big enough to tap
    audit(phone_page, axe_source, "whole-order refund confirmation")
    screenshot(phone_page, "admin-order-refund-confirm-phone")
    assert not Refund.objects.exists()
    for _ in range(60):  # Tab through the page to "Yes", as a keyboard user does, and press Enter
        phone_page.keyboard.press("Tab")
        if phone_page.evaluate("() => document.activeElement.value") == "Yes, refund through Stripe":
            break
    phone_page.keyboard.press("Enter")
    expect(phone_page.locator(".messagelist")).to_contain_text(f"{order.reference}: refunded $500.00")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_an_order_is_refunded_from_its_own_page_on_a_phone(phone_page, django_user_model, axe_source):
    order = paid_team_order()
    log_in(phone_page, django_user_model)
    phone_page.goto(f"/admin/registrations/order/{order.pk}/change/")
    tools = phone_page.locator("ul.object-tools")
    buttons = [tools.get_by_role("button", name="Refund this order…"), tools.get_by_role("link", name="Refund seats…"),
               tools.get_by_role("button", name="Resend confirmation")]
    for tool in buttons:
        expect(tool).to_be_visible()
        assert tool.bounding_box()["height"] >= 44  # big enough to tap
        assert tool.bounding_box()["x"] + tool.bounding_box()["width"] <= 375  # wrapped, not cut off
    # The page does not scroll sideways (the seat, payment and refund tables scroll inside their own boxes).
    assert [p for p in sideways_scrolling(phone_page) if p.startswith("page") or "object-tools" in p] == []
    audit(phone_page, axe_source, "order page with its buttons")
    screenshot(phone_page, "admin-order-tools-phone")
    buttons[0].click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Refund these orders?")
    expect(phone_page.locator(".refund-confirm")).to_contain_text("Refund $500.00 and cancel 5 seats")
    phone_page.get_by_role("link", name="No, take me back").click()
    expect(phone_page).to_have_url(re.compile(rf"/admin/registrations/order/{order.pk}/change/$"))
    assert not Refund.objects.exists()
    phone_page.locator("ul.object-tools").get_by_role("button", name="Refund this order…").click()
    phone_page.get_by_role("button", name="Yes, refund through Stripe").click()
    expect(phone_page.locator(".messagelist")).to_contain_text(f"{order.reference}: refunded $500.00")
    expect(phone_page).to_have_url(re.compile(rf"/admin/registrations/order/{order.pk}/change/$"))
    expect(phone_page.locator("ul.object-tools")).not_to_contain_text("Refund seats…")  # none left to refund
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_an_order_that_changed_before_yes_comes_back_to_be_confirmed_on_a_phone(phone_page, django_user_model, axe_source):
    order = paid_team_order()
    log_in(phone_page, django_user_model)
    choose_whole_order_refund(phone_page, order)
    expect(phone_page.locator(".refund-confirm")).to_contain_text("Refund $500.00 and cancel 5 seats")
    record_refund(order, 10000, kind=Refund.Kind.STRIPE)  # $100 refunded in Stripe's dashboard meanwhile
    phone_page.get_by_role("button", name="Yes, refund through Stripe").click()
    expect(phone_page.locator(".messagelist")).to_contain_text(
        f"Order {order.reference} changed since you looked: it now refunds $400.00, not $500.00. Check and confirm again."
    )
    expect(phone_page.locator(".refund-confirm")).to_contain_text("Refund $400.00 and cancel 5 seats")
    assert not Refund.objects.filter(kind=Refund.Kind.SEATS).exists()
    assert sideways_scrolling(phone_page) == []
    audit(phone_page, axe_source, "whole-order refund confirmation again, the order changed")
    phone_page.get_by_role("button", name="Yes, refund through Stripe").click()
    expect(phone_page.locator(".messagelist")).to_contain_text(f"{order.reference}: refunded $400.00")
    expect(phone_page.locator(".messagelist")).to_contain_text("1 order chosen: 1 refunded.")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_staff_member_exports_the_roster(page, django_user_model):
    order = paid_team_order(seats=["Denise Okafor", "Luis Ortega", "Priya Natarajan"])
    pending_order()  # unpaid: not on the roster
    other = WorkshopFactory(title="Affinity Groups: Facilitation Lab")
    OrderFactory(workshop=other, buyer_name="Ana Ruiz", seats=["Ana Ruiz"])  # another workshop's roster
    first = demo_workshop().sessions.order_by("starts_at").first()
    Attendance.objects.create(seat=order.seats.get(position=2), session=first)

    log_in(page, django_user_model)
    page.locator(f'[data-workshop="{demo_workshop().slug}"]').get_by_role("link", name="Roster", exact=True).click()
    expect(page).to_have_url(re.compile(r"order__workshop__id__exact=\d+"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#result_list")).not_to_contain_text("Maya Chen")
    expect(page.locator("#result_list")).not_to_contain_text("Ana Ruiz")

    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option(label="Export selected to CSV")
    with page.expect_download() as download_info:
        page.locator("button[name=index]").click()
    download = download_info.value
    assert re.fullmatch(r"roster-\d{8}-\d{4}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert [row["Order"] for row in table] == [order.reference] * 5
    by_name = {row["Attendee"]: row for row in table if row["Attendee"] != "(not named yet)"}
    assert sorted(by_name) == ["Denise Okafor", "Luis Ortega", "Priya Natarajan"]
    assert sorted(row["Seat"] for row in table) == ["1", "2", "3", "4", "5"]
    assert {name: row["Attended session 1"] for name, row in by_name.items()} == {
        "Denise Okafor": "no", "Luis Ortega": "yes", "Priya Natarajan": "no"
    }
