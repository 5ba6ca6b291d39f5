"""Seat changes by the team lead: naming a seat, correcting it, or giving it to someone else."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from registrations.selectors.order_pages import seat_changes_open
from workshops.schedule import known_zone
from workshops.templatetags.workshop_tags import one_line

from .. import emails
from .affinity import delete_affinity_data
from ..errors import SeatChangeError, SeatChangesClosedError, SeatListError
from ..models import (
    Order,
    Seat,
    new_token,
)


def ensure_seat_changes_open(*, order: Order, now: datetime | None = None) -> None:
    """Raises SeatChangesClosedError once the lead can no longer change seats, SeatChangeError if unpaid."""
    if order.status != Order.Status.PAID:
        raise SeatChangeError("Seats can be named or changed once the order is paid.")
    if not seat_changes_open(workshop=order.workshop, now=now):
        raise SeatChangesClosedError(
            "Seat changes have closed for this workshop. Please reply to your confirmation email and we will help."
        )


def change_seat(*, seat: Seat, name: str, email: str, new_person: bool, now: datetime | None = None) -> Seat:
    """Name an unnamed seat, correct its attendee's details, or give it to someone else.

    Whenever the email changes the seat gets a new token, so a link that went to the old
    address stops working, the new address gets a welcome email, the previous address is told its
    link stopped working, and any affinity group chosen through the old link is deleted. Giving the
    seat to a new person also clears the previous attendee's pre-work progress and access needs.
    Raises SeatChangesClosedError, SeatChangeError.
    """
    now = now or timezone.now()
    name, email = one_line(name), email.strip()  # a hand-posted name may hold line breaks
    with transaction.atomic():
        seat = Seat.objects.select_for_update(of=("self",)).select_related("order__workshop").get(pk=seat.pk)
        order = seat.order
        ensure_seat_changes_open(order=order, now=now)
        if seat.status != Seat.Status.ACTIVE:
            raise SeatChangeError("This seat was refunded and can no longer be changed.")
        if order.seats.filter(status=Seat.Status.ACTIVE, attendee_email__iexact=email).exclude(pk=seat.pk).exists():
            raise SeatChangeError("Another seat on this order already has this email.", field="email")
        was_named = bool(seat.attendee_email)
        previous = (seat.attendee_name, seat.attendee_email)
        email_changed = seat.attendee_email.lower() != email.lower()
        if new_person and was_named and not email_changed:
            raise SeatChangeError(
                "This seat already belongs to this email. Enter the new attendee's email, or choose to correct the details.",
                field="email",
            )
        if not email_changed and seat.attendee_name == name and seat.attendee_email == email:
            return seat
        seat.attendee_name = name
        seat.attendee_email = email
        if was_named and email_changed:
            seat.token = new_token()
            # The choice belongs to whoever held the old link: a "correction" to another address must not
            # hand it (or the reminder that named it) to the new one, such as the lead's own.
            delete_affinity_data(seats=[seat])
            # Where the previous attendee lives is theirs too, and would put the new one's times in the wrong zone.
            seat.time_zone = ""
        if email_changed:
            seat.welcome_sent_at = None
        if email_changed:
            # Reminders follow the person: the new address has had none yet.
            seat.reminders.all().delete()
        if new_person and was_named:
            seat.needs_captions = False
            seat.needs_interpreter = False
            seat.access_note = ""
            seat.prework_completions.all().delete()
        seat.save()
        if email_changed:
            # Queued in this transaction: keyed by the new token, so it goes out once per hand-over.
            emails.send_seat_welcome(seat_id=seat.pk)
        if was_named and email_changed:
            # The person who had the link is told it no longer works, and why.
            emails.send_seat_released(seat=seat, name=previous[0], email=previous[1], handed_over=new_person)
    return seat


def set_seat_time_zone(*, seat: Seat, zone: str) -> Seat:
    """The attendee's own time zone for their page and emails ("" to show the workshop's zone only).
    Raises SeatChangeError for a name that is not an IANA time zone."""
    zone = zone.strip()
    if zone and not known_zone(zone):
        raise SeatChangeError("Choose a time zone from the list.", field="time_zone")
    Seat.objects.filter(pk=seat.pk).update(time_zone=zone, updated_at=timezone.now())
    seat.time_zone = zone
    return seat


def name_seats(*, order: Order, people: list[tuple[str, str]], now: datetime | None = None) -> list[Seat]:
    """Name the order's unnamed seats, in seat order, after a list of (name, email); all or nothing.

    Each newly named attendee gets their welcome email. Raises SeatChangesClosedError,
    SeatChangeError, or SeatListError with the index of every person who cannot be seated.
    """
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("workshop").get(pk=order.pk)
        ensure_seat_changes_open(order=order, now=now)
        seats = list(order.seats.select_for_update().filter(status=Seat.Status.ACTIVE).order_by("position"))
        seated = {s.attendee_email.lower(): s.position for s in seats if s.attendee_email}
        row_errors = {
            i: f"Already on seat {seated[email.lower()]} of this order."
            for i, (_, email) in enumerate(people)
            if email.lower() in seated
        }
        unnamed = [s for s in seats if not s.attendee_email]
        if len(people) > len(unnamed):
            row_errors.update(
                {i: "No unnamed seat left for this person: add seats below, or remove a line." for i in range(len(unnamed), len(people))}
            )
        if row_errors:
            raise SeatListError(
                f"{len(row_errors)} of the {len(people)} people cannot be seated as listed; nothing was saved yet.",
                row_errors=row_errors,
            )
        for seat, (name, email) in zip(unnamed, people, strict=False):
            seat.attendee_name, seat.attendee_email, seat.welcome_sent_at = name.strip(), email.strip(), now
            seat.updated_at = now
        named = unnamed[: len(people)]
        Seat.objects.bulk_update(named, ["attendee_name", "attendee_email", "welcome_sent_at", "updated_at"])
        emails.send_seat_welcomes(order=order, seats=named)
    return named
