"""Seat changes by the team lead: naming a seat, correcting it, or giving it to someone else."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from registrations.selectors.order_pages import seat_changes_open

from .. import emails
from .affinity import delete_affinity_data
from ..errors import SeatChangeError, SeatChangesClosedError
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
    address stops working, and the new address gets a welcome email. Giving the seat to a
    new person also clears the previous attendee's pre-work progress, access needs and affinity group.
    Raises SeatChangesClosedError, SeatChangeError.
    """
    now = now or timezone.now()
    name, email = name.strip(), email.strip()
    with transaction.atomic():
        seat = Seat.objects.select_for_update(of=("self",)).select_related("order__workshop").get(pk=seat.pk)
        order = seat.order
        ensure_seat_changes_open(order=order, now=now)
        if seat.status != Seat.Status.ACTIVE:
            raise SeatChangeError("This seat was refunded and can no longer be changed.")
        if order.seats.filter(status=Seat.Status.ACTIVE, attendee_email__iexact=email).exclude(pk=seat.pk).exists():
            raise SeatChangeError("Another seat on this order already has this email.", field="email")
        was_named = bool(seat.attendee_email)
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
            delete_affinity_data(seats=[seat])  # the previous person's group is theirs, not the seat's
        seat.save()
        if email_changed:
            # Queued in this transaction: keyed by the new token, so it goes out once per hand-over.
            emails.send_seat_welcome(seat_id=seat.pk)
    return seat
