"""Erasing one person from orders, seats and what followed them, and deleting access needs after a workshop.

Money records stay: amounts, refunds, payment references and the order itself are kept for the
accounts; the name and email address on them become "[erased]". Staff start an erasure from admin
(staff/admin.py); access needs go automatically (`purge_personal_data`, daily).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, Model, Q
from django.utils import timezone
from django.utils.html import escape

from workshops.models import Workshop

from ..models import (
    Certificate,
    Order,
    OutboundEmail,
    Quote,
    ReminderSent,
    Seat,
    SeatAlert,
    StripeEvent,
    erased_address,
    new_token,
)
from .affinity import delete_affinity_data

ERASED = "[erased]"


@dataclass
class Erased:
    """What an erasure changed, for its record and for blanking the audit trail of the same rows."""

    orders: list[Order] = field(default_factory=list)
    seats: list[Seat] = field(default_factory=list)
    others: list[Model] = field(default_factory=list)
    deleted: int = 0

    @property
    def other_count(self) -> int:
        return len(self.others) + self.deleted


def _matches(email: str, name: str) -> Q:
    return Q(**{f"{name}__iexact": email.strip()})


# Parts of a Stripe object that describe the customer (card holder, billing address, receipts).
STRIPE_PERSONAL_KEYS = frozenset(
    {"customer_details", "customer_email", "customer_name", "billing_details", "receipt_email", "shipping",
     "shipping_details", "customer_address", "customer_phone"}
)


def _redact(value, needles: set[str]):
    """A Stripe payload without the customer's details, and with every string that is their name or address replaced."""
    if isinstance(value, dict):
        return {
            key: (ERASED if key in STRIPE_PERSONAL_KEYS and item else _redact(item, needles)) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item, needles) for item in value]
    if isinstance(value, str) and value.strip().lower() in needles:
        return ERASED
    return value


def _erase_orders(email: str, erased: Erased, names: set[str]) -> None:
    for order in Order.objects.filter(_matches(email, "buyer_email") | _matches(email, "billing_email")):
        names.update(n.strip().lower() for n in (order.buyer_name, order.billing_name) if n.strip())
        if order.buyer_email.strip().lower() == email:
            order.buyer_name, order.buyer_email = ERASED, erased_address("order", order.pk)
            order.time_zone = ""
            order.hold_source = ""
        if order.billing_email.strip().lower() == email:
            order.billing_name, order.billing_email = ERASED, erased_address("billing", order.pk)
        order.save(update_fields=["buyer_name", "buyer_email", "billing_name", "billing_email", "time_zone", "hold_source",
                                 "updated_at"])
        erased.orders.append(order)


def _erase_seats(email: str, erased: Erased, names: set[str]) -> None:
    for seat in Seat.objects.filter(_matches(email, "attendee_email")).select_related("order"):
        if seat.attendee_name.strip():
            names.add(seat.attendee_name.strip().lower())
        # The seat becomes an unnamed one: its link stops working and the lead may name it again.
        seat.attendee_name, seat.attendee_email, seat.token = "", "", new_token()
        seat.needs_captions = seat.needs_interpreter = False
        seat.access_note = ""
        seat.time_zone = ""
        seat.save()
        erased.seats.append(seat)
    now = timezone.now()
    for certificate in Certificate.objects.filter(seat__in=erased.seats):
        certificate.attendee_name = ERASED
        certificate.revoked_at = certificate.revoked_at or now
        certificate.save(update_fields=["attendee_name", "revoked_at"])
        erased.others.append(certificate)


def erase_registrations(*, email: str) -> Erased:
    """Anonymise everything registrations holds about one email address; money records stay.

    Call inside a transaction. The orders they bought (and those they were billing contact for) keep
    their amounts and payment references under "[erased]"; their seats lose name, email, access needs and
    link, and their affinity-group choice, Zoom email and breakout placements go; their certificates are
    revoked; quotes, reminders and Stripe event payloads lose the name and address; seat alerts and emails
    to that address are deleted, and emails to others that name them say "[erased]" instead.
    """
    email = email.strip().lower()
    erased, names = Erased(), {email}
    _erase_orders(email, erased, names)
    _erase_seats(email, erased, names)
    erased.deleted += delete_affinity_data(seats=erased.seats)
    for quote in Quote.objects.filter(_matches(email, "contact_email")):
        quote.contact_name, quote.contact_email = ERASED, erased_address("quote", quote.pk)
        quote.save(update_fields=["contact_name", "contact_email"])
        erased.others.append(quote)
    for reminder in ReminderSent.objects.filter(_matches(email, "email")):
        ReminderSent.objects.filter(pk=reminder.pk).update(email=erased_address("reminder", reminder.pk))
        erased.others.append(reminder)
    for event in StripeEvent.objects.filter(order__in=erased.orders):
        StripeEvent.objects.filter(pk=event.pk).update(payload=_redact(event.payload, names))
    erased.deleted += SeatAlert.objects.filter(_matches(email, "email")).delete()[0]
    erased.deleted += OutboundEmail.objects.filter(_matches(email, "to_address")).delete()[0]
    erased.others += _redact_outbox(names)
    return erased


def _redact_outbox(names: set[str]) -> list[OutboundEmail]:
    """Emails to other people that name the person (a lead's confirmation lists each attendee, an attendee's
    welcome names the lead): their name and address become "[erased]" in subject, text and HTML."""
    needles = {n for name in names for n in (name, escape(name)) if n}
    if not needles:
        return []
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)) + r")(?!\w)", re.I)
    matching = Q()
    for needle in needles:
        matching |= Q(subject__icontains=needle) | Q(body__icontains=needle) | Q(html_body__icontains=needle)
    changed = []
    for message in OutboundEmail.objects.filter(matching):
        for name in ("subject", "body", "html_body"):
            setattr(message, name, pattern.sub(ERASED, getattr(message, name)))
        message.save(update_fields=["subject", "body", "html_body"])
        changed.append(message)
    return changed


def workshop_ended_before(cutoff: datetime) -> Q:
    """Seats of workshops whose last live session ended before `cutoff`."""
    ended = Workshop.objects.annotate(last_end=Max("sessions__ends_at")).filter(last_end__lt=cutoff)
    return Q(order__workshop__in=ended.values("pk"))


def purge_access_needs(*, days: int, now: datetime | None = None) -> list[int]:
    """Delete access needs from seats of workshops that ended more than `days` ago. Returns the seats' ids."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with_needs = Q(needs_captions=True) | Q(needs_interpreter=True) | ~Q(access_note="")
    seat_ids = list(Seat.objects.filter(with_needs & workshop_ended_before(cutoff)).values_list("pk", flat=True))
    Seat.objects.filter(pk__in=seat_ids).update(
        needs_captions=False, needs_interpreter=False, access_note="", updated_at=timezone.now()
    )
    return seat_ids


def forget_hold_sources(*, now: datetime | None = None) -> int:
    """Clear the keyed hash of the network a card checkout came from once its hold is over for good (paid, closed,
    or past the longest a card hold can be renewed to): it is kept only to cap live holds. Returns the orders."""
    now = now or timezone.now()
    renewable = Q(status=Order.Status.PENDING) & (
        Q(hold_expires_at__gt=now) | Q(created_at__gt=now - timedelta(minutes=settings.CHECKOUT_MAX_HOLD_MINUTES))
    )
    return Order.objects.exclude(hold_source="").exclude(renewable).update(hold_source="")
