"""The breakout plan in admin: counts, rooms split evenly by room size, who has not chosen and who is not
attending; staff moves; the Zoom pre-assignment CSV; the printable plan; who may see what."""

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registrations.models import BreakoutPlacement, Seat
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.affinity_helpers import add_groups, attendees, choose, facilitate, staff_user

pytestmark = pytest.mark.django_db

HEADER = ["Pre-assign Room Name", "Email Address"]


@pytest.fixture
def groups(workshop):
    return add_groups(workshop)


@pytest.fixture
def session(workshop):
    return workshop.sessions.order_by("starts_at")[0]


def plan_url(session, suffix=""):
    return f"/admin/registrations/breakoutplan/{session.pk}/change/" if not suffix else f"/admin/registrations/breakoutplan/{session.pk}/{suffix}"


def rooms_on_page(html: str) -> dict[str, list[str]]:
    """{room name: [names]} as the plan page lists them."""
    rooms = {}
    for name, body in re.findall(r'<section class="bp-room[^"]*" data-room="([^"]+)".*?<ol>(.*?)</ol>', html, re.S):
        rooms[name] = [re.sub(r"<.*", "", li).strip() for li in re.findall(r"<li[^>]*>(.*?)</li>", body, re.S)]
    return rooms


def zoom_csv(client, session) -> list[list[str]]:
    response = client.get(plan_url(session, "zoom.csv"))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")  # strict UTF-8, no byte-order mark
    assert not text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


def people(workshop, count, group=None, prefix="Person"):
    seats = attendees(workshop, [f"{prefix} {n:03d}" for n in range(1, count + 1)])
    for seat in seats:
        if group:
            choose(seat, group)
    return seats


# --- the plan --------------------------------------------------------------------------------------


def test_plan_counts_each_group_and_splits_it_evenly_by_room_size(staff_client, workshop, groups, session):
    people(workshop, 17, groups["White"], prefix="White")
    people(workshop, 8, groups["Black"], prefix="Black")
    people(workshop, 3, groups["Multiracial"], prefix="Multi")
    html = staff_client.get(plan_url(session)).content.decode()
    rooms = rooms_on_page(html)
    assert {name: len(names) for name, names in rooms.items()} == {
        "Black 1": 8, "Multiracial 1": 3, "White 1": 6, "White 2": 6, "White 3": 5,
    }
    assert re.search(r'data-group-count="White"><th scope="row">White</th><td>17</td><td>3</td>', html)
    assert "28 attendees: <strong>28</strong> in 5 rooms, <strong>0</strong> not chosen" in html


def test_plan_lists_who_has_not_chosen_who_is_not_attending_and_unnamed_seats(staff_client, workshop, groups, session):
    ana, ben, cara = attendees(workshop, ["Ana Diaz", "Ben Okafor", "Cara Lee"])
    choose(ana, groups["White"])
    BreakoutPlacement.objects.create(session=session, seat=cara, kind="absent")
    OrderFactory(workshop=workshop, seat_count=2)  # two paid seats nobody is named in yet
    html = staff_client.get(plan_url(session)).content.decode()
    unchosen = html[html.index('id="unchosen"'):html.index('id="not-attending"')]
    absent = html[html.index('id="not-attending"'):]
    assert "Ben Okafor" in unchosen and "Ana Diaz" not in unchosen
    assert "Cara Lee" in absent and "Ben Okafor" not in absent
    assert "2 paid seats not named yet" in html
    assert rooms_on_page(html) == {"White 1": ["Ana Diaz"]}


def test_unpaid_and_refunded_seats_are_not_in_the_plan(staff_client, workshop, groups, session):
    pending = attendees(workshop, ["Dee Pending"], status="pending", paid_at=None)[0]
    refunded = attendees(workshop, ["Rae Refunded"])[0]
    Seat.objects.filter(pk=refunded.pk).update(status="refunded")
    choose(pending, groups["White"])
    choose(refunded, groups["White"])
    html = staff_client.get(plan_url(session)).content.decode()
    assert "Dee Pending" not in html and "Rae Refunded" not in html


def test_the_room_size_comes_from_the_workshop(staff_client, workshop, groups, session):
    workshop.breakout_room_size = 4
    workshop.save()
    people(workshop, 9, groups["White"])
    rooms = rooms_on_page(staff_client.get(plan_url(session)).content.decode())
    assert sorted(len(n) for n in rooms.values()) == [3, 3, 3]


def test_150_attendees_fit_one_page_in_a_fixed_number_of_queries(staff_client, workshop, groups, session):
    workshop.capacity = 200
    workshop.save()
    labels = list(groups)
    seats = people(workshop, 150)
    for i, seat in enumerate(seats[:140]):
        choose(seat, groups[labels[i % len(labels)]])
    with CaptureQueriesContext(connection) as small:
        staff_client.get(plan_url(session))
    more = people(workshop, 10, groups["White"], prefix="Extra")
    assert len(more) == 10
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(plan_url(session))
    html = response.content.decode()
    assert len(large) == len(small) <= 15
    assert sum(len(names) for names in rooms_on_page(html).values()) == 150
    assert "10 not chosen" in re.sub(r"</?strong>", "", html)


# --- staff moves -----------------------------------------------------------------------------------


def move(client, session, seat, target):
    return client.post(plan_url(session), {"seat": str(seat.pk), "target": target}, follow=True)


def test_staff_move_a_person_to_another_room_of_their_group(staff_client, workshop, groups, session):
    seats = people(workshop, 10, groups["White"])
    rooms = rooms_on_page(staff_client.get(plan_url(session)).content.decode())
    mover = next(s for s in seats if s.attendee_name == rooms["White 1"][0])
    response = move(staff_client, session, mover, f"room:{groups['White'].pk}:2")
    html = response.content.decode()
    assert f"{mover.attendee_name} is now in: White 2." in html
    after = rooms_on_page(html)
    assert mover.attendee_name in after["White 2"] and mover.attendee_name not in after["White 1"]
    assert sorted(len(n) for n in after.values()) == [5, 5]  # still even: someone else fills the gap
    assert BreakoutPlacement.objects.get(seat=mover).placed_by == "staff"


def test_staff_move_a_person_into_another_group_and_to_a_new_room(staff_client, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["Not sure yet / talk to a facilitator"])
    choose(attendees(workshop, ["Ben Okafor"])[0], groups["Multiracial"])
    move(staff_client, session, ana, f"room:{groups['Multiracial'].pk}:2")
    rooms = rooms_on_page(staff_client.get(plan_url(session)).content.decode())
    assert rooms == {"Multiracial 1": ["Ben Okafor"], "Multiracial 2": ["Ana Diaz"]}


def test_staff_place_someone_who_has_not_chosen(staff_client, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    move(staff_client, session, ana, f"room:{groups['Black'].pk}:1")
    assert rooms_on_page(staff_client.get(plan_url(session)).content.decode()) == {"Black 1": ["Ana Diaz"]}


def test_staff_mark_someone_not_attending_and_undo_it(staff_client, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    html = move(staff_client, session, ana, "absent").content.decode()
    assert "Ana Diaz is now in: not attending." in html and rooms_on_page(html) == {}
    html = move(staff_client, session, ana, "reset").content.decode()
    assert rooms_on_page(html) == {"White 1": ["Ana Diaz"]}


def test_a_move_only_affects_its_own_session(staff_client, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    move(staff_client, session, ana, "absent")
    second = workshop.sessions.order_by("starts_at")[1]
    assert rooms_on_page(staff_client.get(plan_url(second)).content.decode()) == {"White 1": ["Ana Diaz"]}


def test_a_room_full_of_staff_moves_refuses_another(staff_client, workshop, groups, session):
    workshop.breakout_room_size = 2
    workshop.save()
    seats = people(workshop, 5, groups["White"])
    for seat in seats[:2]:
        move(staff_client, session, seat, f"room:{groups['White'].pk}:1")
    html = move(staff_client, session, seats[2], f"room:{groups['White'].pk}:1").content.decode()
    assert "White 1 already has 2 people moved there, its size" in html
    assert not BreakoutPlacement.objects.filter(seat=seats[2]).exists()
    assert all(len(n) <= 2 for n in rooms_on_page(html).values())


def test_a_room_beyond_the_next_one_is_refused(staff_client, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    html = move(staff_client, session, ana, f"room:{groups['White'].pk}:5").content.decode()
    assert "Choose a person and where to move them." in html
    assert not BreakoutPlacement.objects.exists()


def test_moves_stop_once_the_session_has_started(client, django_user_model, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    with time_machine.travel(session.starts_at + timedelta(minutes=1)):
        staff_client = client
        staff_client.force_login(staff_user(django_user_model, "cora", "registrations.view_breakout_plan", "registrations.move_breakout_rooms"))
        page = staff_client.get(plan_url(session)).content.decode()
        response = staff_client.post(plan_url(session), {"seat": str(ana.pk), "target": "absent"})
    assert "This session has started: move people in Zoom itself." in page and 'name="target"' not in page
    assert response.status_code == 403
    assert not BreakoutPlacement.objects.exists()


def test_a_person_from_another_workshop_cannot_be_moved_into_this_plan(staff_client, workshop, groups, session):
    stranger = attendees(WorkshopFactory(), ["Sam Stranger"])[0]
    choose(attendees(workshop, ["Ana Diaz"])[0], groups["White"])
    html = move(staff_client, session, stranger, f"room:{groups['White'].pk}:1").content.decode()
    assert "Choose a person and where to move them." in html
    assert not BreakoutPlacement.objects.exists()


def test_a_new_choice_by_the_attendee_overrides_an_earlier_staff_move(client, staff_client, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    move(staff_client, session, ana, f"room:{groups['Black'].pk}:1")
    client.post(f"/seats/{ana.token}/affinity/", {"group": str(groups["Multiracial"].pk), "zoom_email": ""})
    assert rooms_on_page(staff_client.get(plan_url(session)).content.decode()) == {"Multiracial 1": ["Ana Diaz"]}


# --- the Zoom CSV ----------------------------------------------------------------------------------


def test_zoom_csv_has_zoms_exact_header_and_every_placed_attendee_once(staff_client, workshop, groups, session):
    whites = people(workshop, 10, groups["White"], prefix="White")
    blacks = people(workshop, 3, groups["Black"], prefix="Black")
    choose(attendees(workshop, ["Zed Zoom"])[0], groups["Black"], zoom_email="zed.personal@zoom.example")
    attendees(workshop, ["Una Unchosen"])
    rows = zoom_csv(staff_client, session)
    assert rows[0] == HEADER
    body = rows[1:]
    emails = [email for _, email in body]
    expected = {s.attendee_email for s in whites + blacks} | {"zed.personal@zoom.example"}
    assert sorted(emails) == sorted(expected) and len(emails) == len(set(emails))
    assert "una.unchosen@school.example" not in emails and "zed.zoom@school.example" not in emails
    assert {room for room, _ in body} == {"White 1", "White 2", "Black 1"}
    assert len({room for room, _ in body}) <= 100


def test_zoom_csv_follows_staff_moves(staff_client, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    move(staff_client, session, ana, f"room:{groups['Black'].pk}:1")
    assert zoom_csv(staff_client, session)[1:] == [["Black 1", "ana.diaz@school.example"]]


def test_zoom_csv_keeps_accented_names_and_neutralises_formulas(staff_client, workshop, groups, session):
    group = add_groups(workshop, ["Latiné Éducateurs"])["Latiné Éducateurs"]
    ana = attendees(workshop, ["Ana Diaz"])[0]
    Seat.objects.filter(pk=ana.pk).update(attendee_email="=HYPERLINK(1)@evil.example")
    choose(ana, group)
    rows = zoom_csv(staff_client, session)
    assert rows[1] == ["Latiné Éducateurs 1", "'=HYPERLINK(1)@evil.example"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_more_than_100_rooms_is_a_clear_error_not_a_file(staff_client, workshop, session):
    workshop.breakout_room_size = 2
    workshop.capacity = 300
    workshop.save()
    group = add_groups(workshop, ["White"])["White"]
    people(workshop, 202, group)  # 101 rooms of 2
    response = staff_client.get(plan_url(session, "zoom.csv"), follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert "This plan has 101 rooms; Zoom pre-assigns at most 100." in response.content.decode()


def test_more_than_1000_people_is_a_clear_error(staff_client, workshop, session):
    workshop.breakout_room_size = 20
    workshop.capacity = 1100
    workshop.save()
    group = add_groups(workshop, ["White"])["White"]
    order = OrderFactory(workshop=workshop, seat_count=1001)
    seats = list(order.seats.all())
    for n, seat in enumerate(seats):
        seat.attendee_name, seat.attendee_email = f"P {n}", f"p{n}@school.example"
    Seat.objects.bulk_update(seats, ["attendee_name", "attendee_email"])
    from registrations.models import AffinityChoice

    AffinityChoice.objects.bulk_create(AffinityChoice(seat=s, group=group) for s in seats)
    response = staff_client.get(plan_url(session, "zoom.csv"), follow=True)
    assert "This plan places 1001 people; Zoom pre-assigns at most 1000." in response.content.decode()


def test_two_people_sharing_an_email_are_named_instead_of_exported(staff_client, workshop, groups, session):
    ana, ben = attendees(workshop, ["Ana Diaz", "Ben Okafor"])
    choose(ana, groups["White"])
    choose(ben, groups["Black"], zoom_email="Ana.Diaz@school.example")
    html = staff_client.get(plan_url(session, "zoom.csv"), follow=True).content.decode()
    assert "these people share an email: ana.diaz@school.example: Ben Okafor (Black 1), Ana Diaz (White 1)" in html


# --- the printable plan ----------------------------------------------------------------------------


def test_printable_plan_lists_rooms_facilitators_and_access_needs(staff_client, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    Seat.objects.filter(pk=ana.pk).update(needs_captions=True, access_note="Screen reader")
    choose(ana, groups["White"])
    groups["White"].facilitators.create(name="Robin Facilitator", email="robin@esl.example")
    response = staff_client.get(plan_url(session, "print/"))
    html = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert '<div class="room" data-room="White 1">' in html
    assert "<td>Ana Diaz</td><td>captions, Screen reader</td>" in html
    assert "Facilitator: Robin Facilitator" in html
    assert "css/breakout-print" in html


# --- who may see what ------------------------------------------------------------------------------


def test_a_facilitator_sees_only_their_groups_rooms_with_access_needs(client, django_user_model, workshop, groups, session):
    robin = staff_user(django_user_model, "robin", "registrations.view_own_breakout_rooms")
    facilitate(robin, groups["White"])
    ana, ben = attendees(workshop, ["Ana Diaz", "Ben Okafor"])
    Seat.objects.filter(pk=ana.pk).update(needs_interpreter=True)
    choose(ana, groups["White"])
    choose(ben, groups["Black"])
    attendees(workshop, ["Una Unchosen"])
    client.force_login(robin)
    html = client.get(plan_url(session)).content.decode()
    assert rooms_on_page(html) == {"White 1": ["Ana Diaz"]}
    assert "interpreter" in html
    for hidden in ("Ben Okafor", "Black 1", "Una Unchosen", "Not chosen", "zoom.csv", 'name="target"'):
        assert hidden not in html
    printed = client.get(plan_url(session, "print/")).content.decode()
    assert "Ana Diaz" in printed and "Ben Okafor" not in printed and "Una Unchosen" not in printed


def test_a_facilitator_cannot_download_the_zoom_file_or_move_people(client, django_user_model, workshop, groups, session):
    robin = staff_user(django_user_model, "robin", "registrations.view_own_breakout_rooms")
    facilitate(robin, groups["White"])
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    client.force_login(robin)
    assert client.get(plan_url(session, "zoom.csv")).status_code == 403
    assert client.post(plan_url(session), {"seat": str(ana.pk), "target": "absent"}).status_code == 403
    assert not BreakoutPlacement.objects.exists()


def test_a_facilitator_sees_no_other_workshops_sessions(client, django_user_model, workshop, groups, session):
    robin = staff_user(django_user_model, "robin", "registrations.view_own_breakout_rooms")
    other = WorkshopFactory(title="Another workshop")
    facilitate(robin, add_groups(other, ["White"])["White"])
    client.force_login(robin)
    changelist = client.get("/admin/registrations/breakoutplan/").content.decode()
    assert "Another workshop" in changelist and f"/breakoutplan/{session.pk}/change/" not in changelist
    assert client.get(plan_url(session)).status_code == 404
    assert client.get(plan_url(session, "print/")).status_code == 404


def test_staff_without_a_breakout_permission_cannot_open_any_of_it(client, django_user_model, workshop, groups, session):
    client.force_login(staff_user(django_user_model, "finn", "registrations.view_order"))
    for url in ("/admin/registrations/breakoutplan/", plan_url(session), plan_url(session, "zoom.csv"), plan_url(session, "print/")):
        assert client.get(url).status_code == 403, url
    assert "Breakout rooms" not in client.get("/admin/").content.decode()


def test_a_coordinator_who_may_view_but_not_move_gets_no_move_form(client, django_user_model, workshop, groups, session):
    ana = attendees(workshop, ["Ana Diaz"])[0]
    choose(ana, groups["White"])
    client.force_login(staff_user(django_user_model, "cora", "registrations.view_breakout_plan"))
    html = client.get(plan_url(session)).content.decode()
    assert rooms_on_page(html) == {"White 1": ["Ana Diaz"]} and 'name="target"' not in html
    assert client.get(plan_url(session, "zoom.csv")).status_code == 200
    assert client.post(plan_url(session), {"seat": str(ana.pk), "target": "absent"}).status_code == 403


def test_the_sessions_list_links_each_plan(staff_client, workshop, groups, session):
    html = staff_client.get("/admin/registrations/breakoutplan/").content.decode()
    assert plan_url(session) in html and plan_url(session, "print/") in html
    assert "Live session 1" in html and "Live session 2" in html


def test_a_refused_move_keeps_the_person_and_place_chosen(staff_client, workshop, groups, session):
    workshop.breakout_room_size = 2
    workshop.save()
    seats = people(workshop, 5, groups["White"])
    for seat in seats[:2]:
        move(staff_client, session, seat, f"room:{groups['White'].pk}:1")
    target = f"room:{groups['White'].pk}:1"
    html = move(staff_client, session, seats[2], target).content.decode()
    assert "already has 2 people moved there" in html
    assert f'<option value="{seats[2].pk}" selected>' in html
    assert f'<option value="{target}" selected>' in html
