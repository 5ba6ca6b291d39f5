"""Affinity groups in the browser: an attendee chooses theirs on a phone; a coordinator goes from the
registrations to the breakout plan, moves someone and downloads the Zoom pre-assignment file."""

import csv
import random
import re

import pytest

from registrations.models import AffinityChoice, Seat
from tests.e2e.helpers import audit, expect, phone_layout_problems, screenshot
from tests.e2e.pages import demo_workshop, paid_team_order
from tests.factories import OrderFactory
from workshops.models import AffinityFacilitator

pytestmark = pytest.mark.e2e

FIRST = ["Aaliyah", "Ben", "Camila", "Darnell", "Elena", "Farah", "Gabriel", "Hana", "Imani", "Jamal", "Keiko", "Luis",
         "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tanya", "Uma", "Victor", "Wei", "Ximena", "Yusuf"]
LAST = ["Okafor", "Ortega", "Natarajan", "Chen", "Begay", "Haddad", "Johnson", "Kim", "Lopez", "Nguyen"]


def test_attendee_chooses_their_affinity_group_on_a_phone(phone_page, axe_source):
    seat = paid_team_order().seats.get(position=2)  # Luis Ortega, from his own link
    page = phone_page
    page.goto(seat.get_absolute_url())
    section = page.get_by_role("region", name="Your affinity group in the live sessions")
    section.scroll_into_view_if_needed()
    expect(section.get_by_text("Never your team lead or whoever bought your seat")).to_be_visible()
    expect(section.get_by_text("You have not chosen a group.")).to_be_visible()
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "affinity choice, nothing chosen, phone")

    section.get_by_text("Latine/Hispanic", exact=True).click()  # the label is the tap target
    section.get_by_label("Email of your Zoom account (optional)").fill("luis.ortega@zoom-personal.example")
    section.get_by_role("button", name="Save my choice").click()

    expect(page).to_have_url(re.compile(r"#affinity$"))
    expect(page.get_by_text("Saved: you chose “Latine/Hispanic”.")).to_be_visible()
    section = page.get_by_role("region", name="Your affinity group in the live sessions")
    expect(section.locator("[data-affinity-choice]")).to_have_text("Your choice: Latine/Hispanic")
    expect(section.get_by_label("Latine/Hispanic")).to_be_checked()
    screenshot(page, "seat-affinity-phone")
    assert phone_layout_problems(page) == []
    audit(page, axe_source, "affinity choice saved, phone")
    choice = AffinityChoice.objects.get(seat=seat)
    assert (choice.group.label, choice.zoom_email) == ("Latine/Hispanic", "luis.ortega@zoom-personal.example")

    section.get_by_role("button", name="Withdraw my choice and delete it").click()
    expect(page.get_by_text("Your affinity-group choice and Zoom email are withdrawn and deleted.")).to_be_visible()
    assert not AffinityChoice.objects.filter(seat=seat).exists()


def _registrations(count: int) -> list[Seat]:
    """`count` paid attendees in teams of five, most of whom chose a group (a realistic spread)."""
    workshop = demo_workshop()
    rng = random.Random(16)
    groups = list(workshop.affinity_groups.order_by("position"))
    weights = [18, 14, 10, 4, 3, 12, 30, 9]
    seats = []
    for start in range(0, count, 5):
        order = OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5)
        for seat in order.seats.order_by("position"):
            n = start + seat.position
            seat.attendee_name = f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}"
            seat.attendee_email = f"attendee{n}@school.example"
            seat.needs_captions = n % 23 == 0
            seats.append(seat)
    Seat.objects.bulk_update(seats, ["attendee_name", "attendee_email", "needs_captions"])
    AffinityChoice.objects.bulk_create(
        AffinityChoice(seat=s, group=rng.choices(groups, weights)[0]) for s in seats if rng.random() < 0.93
    )
    return seats


def test_coordinator_goes_from_registrations_to_a_zoom_ready_csv(page, django_user_model):
    django_user_model.objects.create_user("cora", "cora@esl.example", "a-long-staff-password", is_staff=True,
                                          is_superuser=True)
    seats = _registrations(150)
    white = demo_workshop().affinity_groups.get(label="White")
    AffinityFacilitator.objects.create(group=white, name="Robin Facilitator", email="robin@esl.example")

    page.goto("/admin/")
    page.get_by_label("Username").fill("cora")
    page.get_by_label("Password").fill("a-long-staff-password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Breakout rooms", exact=True).click()
    page.get_by_role("row", name=re.compile("Live session 1")).get_by_role("link", name="Plan", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Breakout rooms: Live session 1")
    summary = page.locator("[data-plan-summary]")
    expect(summary).to_contain_text("150 attendees")
    rooms = page.locator(".bp-room")
    counts = [int(n) for n in re.findall(r"\((\d+)\)", " ".join(rooms.locator("h3").all_inner_texts()))]
    assert all(1 <= n <= 8 for n in counts) and sum(counts) == AffinityChoice.objects.count()
    screenshot(page, "breakout-plan-desktop")

    mover = page.locator('[data-room="White 1"] li').first.inner_text().split(" ")[:2]
    name = " ".join(mover)
    page.get_by_label("Person", exact=True).select_option(label=name)
    options = page.get_by_label("Move to", exact=True).locator("option").all_inner_texts()
    page.get_by_label("Move to", exact=True).select_option(label=next(o for o in options if o.startswith("White 2 (")))
    page.get_by_role("button", name="Move").click()
    expect(page.locator(".messagelist")).to_contain_text(f"{name} is now in: White 2.")
    expect(page.locator('[data-room="White 2"]')).to_contain_text(name)

    page.wait_for_load_state("load")  # the plan's own scripts loaded: leaving it mid-load aborts them (a failed request)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the Zoom pre-assignment CSV").click()
    download = download_info.value
    with open(download.path(), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Pre-assign Room Name", "Email Address"]
    emails = [email for _, email in rows[1:]]
    assert len(emails) == len(set(emails)) == AffinityChoice.objects.count()
    moved = next(s for s in seats if s.attendee_name == name and s.affinity_choice.group_id == white.pk)
    assert ["White 2", moved.attendee_email] in rows
    assert len({room for room, _ in rows[1:]}) <= 100

    page.wait_for_load_state("load")
    page.goto(page.url.replace("/change/", "/print/"))
    expect(page.locator('[data-room="White 1"]')).to_be_visible()
    expect(page.get_by_text("Facilitator: Robin Facilitator")).to_be_visible()
