"""Affinity groups: an attendee's private choice, staff's breakout-room moves, and deleting it all after the workshop."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from registrations.selectors.breakout import affinity_choice_open, breakout_plan, session_reminder_email_keys
from workshops.models import AffinityGroup, Session, Workshop

from ..errors import AffinityChoiceError, BreakoutError
from ..models import AffinityChoice, BreakoutPlacement, Order, OutboundEmail, Seat

CHOICE_ORDER_STATUSES = (Order.Status.PENDING, Order.Status.PROCESSING, Order.Status.PAID)


def _locked_seat(seat: Seat) -> Seat:
    return Seat.objects.select_for_update(of=("self",)).select_related("order__workshop").get(pk=seat.pk)


def _forget_staff_moves(*, seat: Seat, now: datetime) -> None:
    """A new or withdrawn choice overrides staff's earlier moves for the sessions still ahead."""
    BreakoutPlacement.objects.filter(
        seat=seat, kind=BreakoutPlacement.Kind.ROOM, session__starts_at__gt=now
    ).delete()


def save_affinity_choice(
    *, seat: Seat, group: AffinityGroup | None, zoom_email: str, now: datetime | None = None
) -> AffinityChoice | None:
    """Record an attendee's affinity group (None: no group) and the email of their Zoom account (blank: the
    one they registered with). The group can change only until the workshop's cut-off; the Zoom email any time.
    Both empty deletes the row. Raises AffinityChoiceError.
    """
    now = now or timezone.now()
    zoom_email = (zoom_email or "").strip()
    with transaction.atomic():
        seat = _locked_seat(seat)
        if seat.status != Seat.Status.ACTIVE or seat.order.status not in CHOICE_ORDER_STATUSES:
            raise AffinityChoiceError("This seat is no longer active.")
        workshop = seat.order.workshop
        if group is not None and group.workshop_id != workshop.pk:
            raise AffinityChoiceError("Choose one of the groups offered for this workshop.")
        choice = AffinityChoice.objects.filter(seat=seat).first()
        current_id = choice.group_id if choice else None
        new_id = group.pk if group else None
        if new_id != current_id:
            if not affinity_choice_open(workshop=workshop, now=now):
                raise AffinityChoiceError(
                    "Affinity-group choices have closed for this workshop. A facilitator will help you at the "
                    "start of the session; you can still withdraw your choice."
                )
            _forget_staff_moves(seat=seat, now=now)
        if group is None and not zoom_email:
            if choice:
                choice.delete()
            return None
        if choice is None:
            choice = AffinityChoice(seat=seat)
        if new_id != current_id:
            choice.chosen_at = now if group else None
        choice.group = group
        choice.zoom_email = zoom_email
        choice.save()
        return choice


def withdraw_affinity_choice(*, seat: Seat, now: datetime | None = None) -> bool:
    """Delete the attendee's choice, Zoom email and staff's moves for sessions ahead. Allowed at any time.

    Returns whether there was anything to delete.
    """
    now = now or timezone.now()
    with transaction.atomic():
        seat = _locked_seat(seat)
        deleted, _ = AffinityChoice.objects.filter(seat=seat).delete()
        _forget_staff_moves(seat=seat, now=now)
    return bool(deleted)


def record_registration_choice(*, order: Order, group: AffinityGroup | None, zoom_email: str) -> AffinityChoice | None:
    """The buyer's own choice, made on the registration form, on the seat that is theirs (the first)."""
    if not order.buyer_attends or (group is None and not zoom_email.strip()):
        return None
    seat = order.seats.filter(position=1).first()
    if seat is None:
        return None
    try:
        return save_affinity_choice(seat=seat, group=group, zoom_email=zoom_email)
    except AffinityChoiceError:
        return None  # closed meanwhile: they can choose on their seat page while it is open


def _placement_target(*, session: Session, seat_id: int, now: datetime) -> Seat:
    """The session row locked (one staff change at a time per session) and the seat checked."""
    Session.objects.select_for_update().get(pk=session.pk)
    if now >= session.starts_at:
        raise BreakoutError(f"{session.title} has started: make changes in Zoom itself.")
    seat = (
        Seat.objects.filter(
            pk=seat_id, order__workshop_id=session.workshop_id, status=Seat.Status.ACTIVE, order__status=Order.Status.PAID
        )
        .exclude(attendee_email="")
        .first()
    )
    if seat is None:
        raise BreakoutError("That person is not an attendee of this workshop.")
    return seat


def move_to_room(
    *, session: Session, seat_id: int, group: AffinityGroup, room_number: int, by: str = "", now: datetime | None = None
) -> BreakoutPlacement:
    """Put one attendee in a given room of a group for this session (an existing room, or the group's next one).

    Raises BreakoutError after the session started, for a room beyond the next, or when staff have already
    moved as many people into that room as it holds.
    """
    now = now or timezone.now()
    workshop = session.workshop
    with transaction.atomic():
        seat = _placement_target(session=session, seat_id=seat_id, now=now)
        if group.workshop_id != workshop.pk:
            raise BreakoutError("That group is not offered for this workshop.")
        group_plan = next(g for g in breakout_plan(session=session).groups if g.group.pk == group.pk)
        if not 1 <= room_number <= group_plan.next_room_number:
            raise BreakoutError(f"{group.label} has no room {room_number}.")
        pinned = (
            BreakoutPlacement.objects.filter(session=session, group=group, room_number=room_number)
            .exclude(seat=seat)
            .count()
        )
        if pinned >= workshop.breakout_room_size:
            raise BreakoutError(
                f"{group.label} {room_number} already has {pinned} people moved there, its size: "
                "move someone out first, or choose another room."
            )
        placement, _ = BreakoutPlacement.objects.update_or_create(
            session=session,
            seat=seat,
            defaults={"kind": BreakoutPlacement.Kind.ROOM, "group": group, "room_number": room_number, "placed_by": by},
        )
    return placement


def mark_not_attending(*, session: Session, seat_id: int, by: str = "", now: datetime | None = None) -> BreakoutPlacement:
    """Take an attendee out of this session's rooms (they told us they cannot come). Raises BreakoutError."""
    now = now or timezone.now()
    with transaction.atomic():
        seat = _placement_target(session=session, seat_id=seat_id, now=now)
        placement, _ = BreakoutPlacement.objects.update_or_create(
            session=session,
            seat=seat,
            defaults={"kind": BreakoutPlacement.Kind.ABSENT, "group": None, "room_number": None, "placed_by": by},
        )
    return placement


def reset_placement(*, session: Session, seat_id: int, now: datetime | None = None) -> bool:
    """Undo staff's move or "not attending": the attendee goes back to their own choice. Raises BreakoutError."""
    now = now or timezone.now()
    with transaction.atomic():
        seat = _placement_target(session=session, seat_id=seat_id, now=now)
        deleted, _ = BreakoutPlacement.objects.filter(session=session, seat=seat).delete()
    return bool(deleted)


def delete_affinity_data(*, seats: Iterable[Seat] | None = None, workshops: Iterable[Workshop] | None = None) -> int:
    """Delete affinity-group choices, Zoom emails and breakout placements of these seats and/or every seat
    of these workshops, and their session reminders in the email outbox (which name the group and Zoom email).
    For erasing a person and for the retention clean-up. Returns how many choices and placements went."""
    condition = Q(pk__in=[])
    if seats is not None:
        condition |= Q(seat__in=[s.pk for s in seats])
    if workshops is not None:
        condition |= Q(seat__order__workshop__in=[w.pk for w in workshops])
    with transaction.atomic():
        choices, _ = AffinityChoice.objects.filter(condition).delete()
        placements, _ = BreakoutPlacement.objects.filter(condition).delete()
        OutboundEmail.objects.filter(key__in=session_reminder_email_keys(condition)).delete()
    return choices + placements


def affinity_retention_days() -> int:
    return getattr(settings, "AFFINITY_RETENTION_DAYS", 30)


def delete_expired_affinity_data(*, now: datetime | None = None) -> int:
    """Delete the affinity data of every workshop whose last session ended AFFINITY_RETENTION_DAYS ago or more."""
    cutoff = (now or timezone.now()) - timedelta(days=affinity_retention_days())
    finished = Workshop.objects.annotate(last_end=Max("sessions__ends_at")).filter(last_end__lte=cutoff)
    return delete_affinity_data(workshops=list(finished))
