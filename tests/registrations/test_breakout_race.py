"""Two or more staff moving people at once: a room never takes more staff moves than it holds (PostgreSQL)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from registrations.models import BreakoutPlacement
from tests.factories import WorkshopFactory
from tests.registrations.affinity_helpers import add_groups, attendees, choose, staff_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_six_staff_moving_six_people_into_a_room_of_three_at_once_place_three(django_user_model):
    workshop = WorkshopFactory(breakout_room_size=3)
    white = add_groups(workshop, ["White"])["White"]
    seats = attendees(workshop, [f"Person {n}" for n in range(9)])
    for seat in seats:
        choose(seat, white)
    session = workshop.sessions.order_by("starts_at")[0]
    users = [
        staff_user(django_user_model, f"cora{n}", "registrations.view_breakout_plan", "registrations.move_breakout_rooms")
        for n in range(6)
    ]
    start = threading.Barrier(6)
    statuses = []

    def move(n: int) -> None:
        client = Client()
        client.force_login(users[n])
        try:
            start.wait()
            response = client.post(
                f"/admin/registrations/breakoutplan/{session.pk}/change/",
                {"seat": str(seats[n].pk), "target": f"room:{white.pk}:1"},
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Three moved (back on the plan), three refused (the plan again, their choice still selected, "room is full").
    assert sorted(statuses) == [200, 200, 200, 302, 302, 302]
    assert BreakoutPlacement.objects.filter(session=session, group=white, room_number=1).count() == 3
