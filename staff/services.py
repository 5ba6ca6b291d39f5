"""Erasing a person on request, and deleting personal data on schedule, across every app that holds it."""

from dataclasses import dataclass
from datetime import datetime

from auditlog.context import disable_auditlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from cohorts.models import WaitlistEntry
from cohorts.services.privacy import erase_waitlist_entries
from registrations.models import Order, Quote, Seat, SeatAlert
from registrations.services.privacy import erase_registrations, forget_hold_sources, purge_access_needs

from . import audit
from .models import Erasure


@dataclass(frozen=True)
class ErasurePreview:
    orders: int
    seats: int
    waitlist_entries: int
    other_records: int

    @property
    def total(self) -> int:
        return self.orders + self.seats + self.waitlist_entries + self.other_records


def erasure_preview(*, email: str) -> ErasurePreview:
    """How many records hold this address: what staff confirm before erasing."""
    email = email.strip()
    return ErasurePreview(
        orders=Order.objects.filter(Q(buyer_email__iexact=email) | Q(billing_email__iexact=email)).count(),
        seats=Seat.objects.filter(attendee_email__iexact=email).count(),
        waitlist_entries=WaitlistEntry.objects.filter(email__iexact=email).count(),
        other_records=Quote.objects.filter(contact_email__iexact=email).count()
        + SeatAlert.objects.filter(email__iexact=email).count(),
    )


def erase_person(*, email: str, by=None, reason: str = "") -> Erasure:
    """Anonymise one person everywhere: names, address, access needs and links on seats, orders and
    waitlist entries, and the same values in the audit trail. Money records stay, under "[erased]".

    The erasure itself is recorded (who, when, why, how many records), never whose.
    """
    with transaction.atomic():
        with disable_auditlog():  # the trail must not keep a before/after copy of what is erased
            registrations = erase_registrations(email=email)
            entries = erase_waitlist_entries(email=email, by=by)
            redacted = audit.redact_entries([*registrations.orders, *registrations.seats, *registrations.others, *entries])
        return Erasure.objects.create(
            erased_by=by,
            reason=reason.strip(),
            orders=len(registrations.orders),
            seats=len(registrations.seats),
            waitlist_entries=len(entries),
            other_records=registrations.other_count + redacted,
        )


def purge_personal_data(*, now: datetime | None = None) -> int:
    """Delete access needs a set time after each workshop (ACCESS_NEEDS_RETENTION_DAYS), here and in the
    audit trail, and the hashed network of card checkouts whose hold is over. Returns how many seats lost their
    access needs. Safe to run again: a second run finds none.
    """
    with transaction.atomic(), disable_auditlog():
        forget_hold_sources(now=now)
        seat_ids = purge_access_needs(days=settings.ACCESS_NEEDS_RETENTION_DAYS, now=now)
        audit.redact_entries([Seat(pk=pk) for pk in seat_ids], fields=audit.ACCESS_NEEDS_FIELDS)
    return len(seat_ids)
