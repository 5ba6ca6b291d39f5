"""Affinity groups and breakout rooms: an attendee's choice, the plan for a live session, and the Zoom rows.

The plan is computed, not stored: each group's chosen attendees are split over as few rooms as the room
size allows, of even sizes; staff's placements (a move to another room, "not attending") override it.
"""

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from workshops.models import AffinityFacilitator, AffinityGroup, Session, Workshop

from ..errors import ZoomExportError
from ..models import AffinityChoice, BreakoutPlacement, BreakoutPlan, Order, ReminderSent, Seat

# Zoom's limits for pre-assigned breakout rooms (one CSV per meeting).
ZOOM_MAX_ROOMS = 100
ZOOM_MAX_ROWS = 1000


def affinity_groups(*, workshop: Workshop) -> list[AffinityGroup]:
    """In `position` order; from the workshop's attached copy when it came with_catalog(), else one query."""
    return list(workshop.affinity_groups.all())


def affinity_choice_open(*, workshop: Workshop, now: datetime | None = None) -> bool:
    """Attendees may choose or change until the workshop's cut-off before the next live session."""
    now = now or timezone.now()
    closes = workshop.affinity_choice_closes_at(now)
    return closes is None or now < closes


def choice_for_seat(*, seat: Seat) -> AffinityChoice | None:
    return AffinityChoice.objects.select_related("group").filter(seat=seat).first()


def buyer_choice_for_order(*, workshop: Workshop, order_token: str) -> AffinityChoice | None:
    """The buyer's own choice on an order (their seat is the first, with their email), for the
    registration form refilled after a cancelled checkout; never another attendee's."""
    choice = (
        AffinityChoice.objects.filter(
            seat__order__token=order_token, seat__order__workshop=workshop, seat__order__buyer_attends=True,
            seat__position=1,
        )
        .select_related("seat__order")
        .first()
    )
    if choice is None or choice.seat.attendee_email.lower() != choice.seat.order.buyer_email.lower():
        return None
    return choice


@dataclass(frozen=True)
class SeatAffinity:
    """What the attendee's own page shows about affinity groups."""

    groups: list[AffinityGroup]
    choice: AffinityChoice | None
    is_open: bool
    closes_at: datetime | None

    @property
    def offered(self) -> bool:
        return bool(self.groups)

    @property
    def group(self) -> AffinityGroup | None:
        return self.choice.group if self.choice else None

    @property
    def zoom_email(self) -> str:
        return self.choice.zoom_email if self.choice else ""


def affinity_for_seat(*, seat: Seat, now: datetime | None = None) -> SeatAffinity:
    workshop = seat.order.workshop
    groups = affinity_groups(workshop=workshop)
    return SeatAffinity(
        groups=groups,
        choice=choice_for_seat(seat=seat) if groups else None,
        is_open=affinity_choice_open(workshop=workshop, now=now),
        closes_at=workshop.affinity_choice_closes_at(now),
    )


def assign_rooms(members: Sequence[Hashable], *, room_size: int, pins: dict | None = None) -> list[list]:
    """Split one group's members (in a stable order) over numbered rooms; room i is result[i - 1].

    As few rooms as the size allows, or up to the highest room a member is pinned to. Pinned members go
    to their room; everyone else joins the room with the fewest people (the lowest number on a tie), so
    without pins the sizes differ by at most one, and no room exceeds `room_size` unless pins put more there.
    """
    pins = {m: n for m, n in (pins or {}).items() if m in set(members)}
    if not members:
        return []
    count = max(math.ceil(len(members) / room_size), max(pins.values(), default=0))
    rooms: list[list] = [[] for _ in range(count)]
    for member in members:
        if member in pins:
            rooms[pins[member] - 1].append(member)
    for member in members:
        if member not in pins:
            min(rooms, key=len).append(member)  # min() keeps the first of equals: the lowest number
    return rooms


@dataclass
class PlanMember:
    seat: Seat
    choice: AffinityChoice | None
    placement: BreakoutPlacement | None

    @property
    def name(self) -> str:
        return self.seat.attendee_name

    @property
    def zoom_email(self) -> str:
        """The address Zoom knows them by: the Zoom account email they gave, else their registration email."""
        return (self.choice.zoom_email if self.choice and self.choice.zoom_email else self.seat.attendee_email).strip()

    @property
    def chosen_group(self) -> AffinityGroup | None:
        return self.choice.group if self.choice else None

    @property
    def is_moved(self) -> bool:
        return self.placement is not None and self.placement.kind == BreakoutPlacement.Kind.ROOM

    @property
    def access_needs(self) -> str:
        seat = self.seat
        needs = [label for flag, label in [(seat.needs_captions, "captions"), (seat.needs_interpreter, "interpreter")] if flag]
        if seat.access_note:
            needs.append(seat.access_note)
        return ", ".join(needs)

    @property
    def sort_key(self) -> tuple:
        return (self.seat.attendee_name.casefold(), self.seat.pk)


@dataclass
class Room:
    group: AffinityGroup
    number: int
    members: list[PlanMember]

    @property
    def name(self) -> str:
        return f"{self.group.label} {self.number}"


@dataclass
class GroupPlan:
    group: AffinityGroup
    rooms: list[Room] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(room.members) for room in self.rooms)

    @property
    def facilitators(self) -> list[AffinityFacilitator]:
        return list(self.group.facilitators.all())

    @property
    def next_room_number(self) -> int:
        return max((room.number for room in self.rooms), default=0) + 1


@dataclass
class Plan:
    session: Session
    room_size: int
    groups: list[GroupPlan]
    unchosen: list[PlanMember]
    not_attending: list[PlanMember]
    unnamed_seats: int

    @property
    def rooms(self) -> list[Room]:
        return [room for group in self.groups for room in group.rooms]

    @property
    def placed_count(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def attendee_count(self) -> int:
        return self.placed_count + len(self.unchosen) + len(self.not_attending)

    def room_of(self, seat_id: int) -> Room | None:
        for room in self.rooms:
            if any(member.seat.pk == seat_id for member in room.members):
                return room
        return None

    def members(self) -> list[tuple[str, PlanMember]]:
        """Everyone named, with where they are now: a room's name, "not chosen" or "not attending"."""
        placed = [(room.name, member) for room in self.rooms for member in room.members]
        return placed + [("Not chosen", m) for m in self.unchosen] + [("Not attending", m) for m in self.not_attending]

    def only_groups(self, group_ids: set[int]) -> "Plan":
        """The same plan cut down to some groups' rooms (what a facilitator sees)."""
        return Plan(
            session=self.session,
            room_size=self.room_size,
            groups=[g for g in self.groups if g.group.pk in group_ids],
            unchosen=[],
            not_attending=[],
            unnamed_seats=0,
        )


def plan_seats(*, workshop: Workshop) -> QuerySet[Seat]:
    """Who takes part in the live sessions: active seats of paid orders."""
    return Seat.objects.filter(
        order__workshop=workshop, status=Seat.Status.ACTIVE, order__status=Order.Status.PAID
    ).select_related("affinity_choice__group")


def breakout_plan(*, session: Session) -> Plan:
    """The plan for one live session, in a fixed number of queries however many attendees there are."""
    workshop = session.workshop
    groups = list(
        AffinityGroup.objects.filter(workshop=workshop)
        .order_by("position", "id")
        .prefetch_related(Prefetch("facilitators", queryset=AffinityFacilitator.objects.select_related("user")))
    )
    placements = {p.seat_id: p for p in BreakoutPlacement.objects.filter(session=session)}
    by_group: dict[int, list[PlanMember]] = {g.pk: [] for g in groups}
    unchosen, absent, unnamed = [], [], 0
    for seat in plan_seats(workshop=workshop):
        if not seat.attendee_email:
            unnamed += 1
            continue
        member = PlanMember(seat=seat, choice=getattr(seat, "affinity_choice", None), placement=placements.get(seat.pk))
        if member.placement and member.placement.kind == BreakoutPlacement.Kind.ABSENT:
            absent.append(member)
        elif member.is_moved and member.placement.group_id in by_group:
            by_group[member.placement.group_id].append(member)
        elif member.chosen_group is not None and member.chosen_group.pk in by_group:
            by_group[member.chosen_group.pk].append(member)
        else:
            unchosen.append(member)
    plans = []
    for group in groups:
        members = sorted(by_group[group.pk], key=lambda m: m.sort_key)
        pins = {m.seat.pk: m.placement.room_number for m in members if m.is_moved}
        by_seat = {m.seat.pk: m for m in members}
        rooms = assign_rooms([m.seat.pk for m in members], room_size=workshop.breakout_room_size, pins=pins)
        plans.append(
            GroupPlan(
                group=group,
                rooms=[
                    Room(group=group, number=number, members=[by_seat[pk] for pk in seat_ids])
                    for number, seat_ids in enumerate(rooms, start=1)
                    if seat_ids
                ],
            )
        )
    key = lambda m: m.sort_key  # noqa: E731
    return Plan(
        session=session,
        room_size=workshop.breakout_room_size,
        groups=plans,
        unchosen=sorted(unchosen, key=key),
        not_attending=sorted(absent, key=key),
        unnamed_seats=unnamed,
    )


@dataclass(frozen=True)
class SeatBreakout:
    """What a session reminder tells one attendee: their group and planned room, or that they can still choose."""

    offered: bool
    group: AffinityGroup | None
    room_name: str
    zoom_email: str  # the account email the room is pre-assigned to
    not_attending: bool
    choice_open: bool


def breakout_for_seat(*, session: Session, seat: Seat, now: datetime | None = None) -> SeatBreakout:
    workshop = session.workshop
    plan = breakout_plan(session=session)
    room = plan.room_of(seat.pk)
    member = next((m for m in room.members if m.seat.pk == seat.pk), None) if room else None
    return SeatBreakout(
        offered=bool(plan.groups),
        group=room.group if room else None,
        room_name=room.name if room else "",
        zoom_email=member.zoom_email if member else "",
        not_attending=any(m.seat.pk == seat.pk for m in plan.not_attending),
        choice_open=affinity_choice_open(workshop=workshop, now=now),
    )


def zoom_rows(plan: Plan) -> list[tuple[str, str]]:
    """(room name, email) for everyone in a room, in room order: Zoom's pre-assignment rows.

    Raises ZoomExportError beyond Zoom's limits, or when two people in the plan share an email (Zoom
    would put that one account in one room only).
    """
    rooms = plan.rooms
    rows = [(room.name, member.zoom_email) for room in rooms for member in room.members]
    if len(rooms) > ZOOM_MAX_ROOMS:
        raise ZoomExportError(
            f"This plan has {len(rooms)} rooms; Zoom pre-assigns at most {ZOOM_MAX_ROOMS}. "
            "Raise the workshop's breakout room size, or create the extra rooms in Zoom during the session."
        )
    if len(rows) > ZOOM_MAX_ROWS:
        raise ZoomExportError(
            f"This plan places {len(rows)} people; Zoom pre-assigns at most {ZOOM_MAX_ROWS}. "
            "Assign the rest in Zoom during the session."
        )
    seen: dict[str, list[str]] = {}
    for room, member in ((room, m) for room in rooms for m in room.members):
        seen.setdefault(member.zoom_email.casefold(), []).append(f"{member.name} ({room.name})")
    shared = {email: who for email, who in seen.items() if len(who) > 1}
    if shared:
        detail = "; ".join(f"{email}: {', '.join(who)}" for email, who in sorted(shared.items()))
        raise ZoomExportError(
            f"Zoom places one account in one room, but these people share an email: {detail}. "
            "Mark all but one as not attending, or ask them to give their own Zoom account email on their seat page."
        )
    return rows


def breakout_sessions(*, facilitator=None) -> QuerySet[BreakoutPlan]:
    """Live sessions of workshops that offer affinity groups; for a facilitator, only those of their groups."""
    sessions = BreakoutPlan.objects.select_related("workshop").filter(workshop__affinity_groups__isnull=False)
    if facilitator is not None:
        sessions = sessions.filter(workshop__affinity_groups__facilitators__user=facilitator)
    return sessions.distinct().order_by("-starts_at")


def facilitated_group_ids(*, user, workshop: Workshop) -> set[int]:
    return set(
        AffinityFacilitator.objects.filter(user=user, group__workshop=workshop).values_list("group_id", flat=True)
    )


def session_reminder_email_keys(seats: Q) -> list[str]:
    """The outbox keys of the session reminders of these seats (`seats`: a condition on `seat`): their bodies
    name the attendee's affinity group and Zoom email."""
    ids = ReminderSent.objects.filter(seats, kind=ReminderSent.Kind.SESSION).values_list("pk", flat=True)
    return [f"reminder:{pk}" for pk in ids]


def names_affinity_group(*, outbound_key: str) -> bool:
    """Whether an outbox email is a session reminder, whose body may name the attendee's group."""
    kind, _, pk = outbound_key.partition(":")
    return kind == "reminder" and pk.isdigit() and ReminderSent.objects.filter(pk=int(pk), kind=ReminderSent.Kind.SESSION).exists()
