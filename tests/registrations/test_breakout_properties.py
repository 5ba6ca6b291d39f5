"""Invariants of the breakout plan, for any group sizes, room sizes, choices, withdrawals and staff moves:
sizes within a group differ by at most one (without staff moves), every chosen attendee is in exactly one
room, no room holds more than the room size, and the Zoom rows are exactly the people in rooms."""

import math
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from registrations.errors import BreakoutError
from registrations.models import AffinityChoice
from registrations.selectors.breakout import assign_rooms, breakout_plan, zoom_rows
from registrations.services.affinity import (
    mark_not_attending,
    move_to_room,
    reset_placement,
    save_affinity_choice,
    withdraw_affinity_choice,
)
from tests.factories import WorkshopFactory
from tests.registrations.affinity_helpers import add_groups, attendees


@given(members=st.integers(min_value=0, max_value=400), room_size=st.integers(min_value=2, max_value=30))
def test_an_even_split_differs_by_at_most_one_and_never_overfills(members, room_size):
    rooms = assign_rooms(list(range(members)), room_size=room_size)
    sizes = [len(room) for room in rooms]
    assert sorted(m for room in rooms for m in room) == list(range(members))
    assert len(rooms) == math.ceil(members / room_size)
    if sizes:
        assert max(sizes) - min(sizes) <= 1
        assert max(sizes) <= room_size


@given(
    members=st.integers(min_value=1, max_value=120),
    room_size=st.integers(min_value=2, max_value=12),
    data=st.data(),
)
def test_with_staff_moves_everyone_is_in_exactly_one_room_and_none_overfills(members, room_size, data):
    people = list(range(members))
    rooms_now = math.ceil(members / room_size)
    pins = data.draw(st.dictionaries(st.sampled_from(people), st.integers(min_value=1, max_value=rooms_now + 1)))
    # Staff can move at most `room_size` people into one room (the service refuses the next).
    kept, per_room = {}, Counter()
    for member, number in pins.items():
        if per_room[number] < room_size:
            kept[member], per_room[number] = number, per_room[number] + 1
    pins = kept
    rooms = assign_rooms(people, room_size=room_size, pins=pins)
    placed = [m for room in rooms for m in room]
    assert sorted(placed) == people
    assert all(len(room) <= room_size for room in rooms)
    for member, number in pins.items():
        assert member in rooms[number - 1]


class PlanMachine(RuleBasedStateMachine):
    """Attendees choose, change and withdraw while staff move people and mark them absent."""

    def __init__(self):
        super().__init__()
        self.workshop = WorkshopFactory(breakout_room_size=3, capacity=40)
        self.groups = list(add_groups(self.workshop, ["Black", "White", "Multiracial"]).values())
        self.seats = attendees(self.workshop, [f"Person {n}" for n in range(12)])
        self.session = self.workshop.sessions.order_by("starts_at")[0]
        self.now = self.session.starts_at - timedelta(days=5)

    @rule(seat=st.integers(0, 11), group=st.integers(0, 3))
    def choose(self, seat, group):
        chosen = self.groups[group] if group < 3 else None
        save_affinity_choice(seat=self.seats[seat], group=chosen, zoom_email="", now=self.now)

    @rule(seat=st.integers(0, 11))
    def withdraw(self, seat):
        withdraw_affinity_choice(seat=self.seats[seat], now=self.now)

    @rule(seat=st.integers(0, 11), group=st.integers(0, 2), room=st.integers(1, 5))
    def move(self, seat, group, room):
        try:
            move_to_room(session=self.session, seat_id=self.seats[seat].pk, group=self.groups[group], room_number=room, now=self.now)
        except BreakoutError:
            pass

    @rule(seat=st.integers(0, 11))
    def absent(self, seat):
        mark_not_attending(session=self.session, seat_id=self.seats[seat].pk, now=self.now)

    @rule(seat=st.integers(0, 11))
    def reset(self, seat):
        reset_placement(session=self.session, seat_id=self.seats[seat].pk, now=self.now)

    @invariant()
    def everyone_is_in_exactly_one_place(self):
        plan = breakout_plan(session=self.session)
        where = [m.seat.pk for room in plan.rooms for m in room.members]
        where += [m.seat.pk for m in plan.unchosen + plan.not_attending]
        assert sorted(where) == sorted(s.pk for s in self.seats)
        assert all(1 <= len(room.members) <= plan.room_size for room in plan.rooms)
        names = [room.name for room in plan.rooms]
        assert len(names) == len(set(names))

    @invariant()
    def chosen_and_present_people_are_in_a_room_of_some_group(self):
        plan = breakout_plan(session=self.session)
        absent = {m.seat.pk for m in plan.not_attending}
        chosen = set(
            AffinityChoice.objects.filter(seat__in=self.seats, group__isnull=False).values_list("seat_id", flat=True)
        )
        in_rooms = {m.seat.pk for room in plan.rooms for m in room.members}
        assert chosen - absent <= in_rooms

    @invariant()
    def zoom_rows_are_the_people_in_rooms(self):
        plan = breakout_plan(session=self.session)
        rows = zoom_rows(plan)
        assert sorted(email for _, email in rows) == sorted(m.seat.attendee_email for r in plan.rooms for m in r.members)
        assert {room for room, _ in rows} == {room.name for room in plan.rooms}


@pytest.mark.django_db
def test_the_plan_holds_its_invariants_under_any_sequence_of_choices_and_moves():
    run_state_machine_as_test(
        PlanMachine,
        settings=settings(
            max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
