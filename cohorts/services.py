"""Writes for the cohort waitlist. Every function is keyword-only and owns its transaction.

Emails go out after the transaction has committed, so nobody is told about a
change that was rolled back.
"""

import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from registrations.models import Order
from registrations.selectors.order_pages import order_for_token
from registrations.services.checkout import place_order, start_checkout
from workshops.models import PriceTier, Workshop
from workshops.selectors import PriceQuote, quote_for

from . import emails
from .models import MAX_TEAM_SIZE, Cohort, WaitlistEntry, WaitlistStatusChange
from .selectors import place_in_line

logger = logging.getLogger(__name__)

Status = WaitlistEntry.Status


class WaitlistError(Exception):
    """A problem the person can act on; the message is shown to them."""


class WaitlistClosedError(WaitlistError):
    pass


class EmailTakenError(WaitlistError):
    pass


class NotInvitedError(WaitlistError):
    pass


@dataclass(frozen=True)
class EntryDetails:
    name: str
    email: str
    role: str
    organisation: str = ""
    kind: str = WaitlistEntry.Kind.INDIVIDUAL
    team_size: int = 1
    note: str = ""


@dataclass(frozen=True)
class JoinResult:
    entry: WaitlistEntry
    outcome: str  # "joined", "updated" (was already in line) or "rejoined" (had left)
    place: int | None = field(default=None)


def _clean(details: EntryDetails) -> dict:
    is_team = details.kind == WaitlistEntry.Kind.TEAM
    team_size = details.team_size if is_team else 1
    if not 1 <= team_size <= MAX_TEAM_SIZE:
        raise WaitlistError(f"Team size must be between 1 and {MAX_TEAM_SIZE}.")
    return {
        "name": details.name.strip(),
        "email": details.email.strip(),
        "role": details.role,
        "organisation": details.organisation.strip(),
        "kind": WaitlistEntry.Kind.TEAM if is_team else WaitlistEntry.Kind.INDIVIDUAL,
        "team_size": team_size,
        "note": details.note.strip(),
    }


def _locked_by_email(*, cohort: Cohort, email: str) -> WaitlistEntry | None:
    return WaitlistEntry.objects.select_for_update().filter(cohort=cohort, email__iexact=email.strip()).first()


def _set_status(
    *, entry: WaitlistEntry, to_status: str, by=None, note: str = "", now: datetime
) -> WaitlistStatusChange:
    """Move a locked entry to a new status and record the change; the caller saves the entry."""
    change = WaitlistStatusChange.objects.create(
        entry=entry, from_status=entry.status, to_status=to_status, changed_at=now, changed_by=by, note=note
    )
    if to_status == Status.INVITED and entry.invited_at is None:
        entry.invited_at = now
    if to_status == Status.WAITING and entry.status == Status.WITHDRAWN:
        # Coming back after leaving means the end of the line, and a fresh invitation later.
        entry.joined_at = now
        entry.invited_at = None
        entry.seat_confirmed_at = None
    entry.status = to_status
    return change


def _confirm_by_email(*, entry: WaitlistEntry, outcome: str) -> int | None:
    place = place_in_line(entry=entry)
    try:
        emails.send_waitlist_confirmation(entry=entry, outcome=outcome, place=place)
    except Exception:
        # The entry is saved and the person is shown its page; a mail outage must not undo that.
        logger.exception("Could not send the waitlist confirmation for entry %s", entry.pk)
    return place


def join_waitlist(*, cohort: Cohort, details: EntryDetails, now: datetime | None = None) -> JoinResult:
    """Put someone on a cohort's waitlist, or update their entry if their email is already on it.

    Emails are matched without regard to case. Someone who had left goes back in
    line at the end. Sends a confirmation with the link to their status page.
    Raises WaitlistClosedError, WaitlistError.
    """
    if not cohort.accepts_waitlist:
        raise WaitlistClosedError("The waitlist for this course is closed.")
    values = _clean(details)
    now = now or timezone.now()
    outcome = ""
    with transaction.atomic():
        entry = _locked_by_email(cohort=cohort, email=values["email"])
        if entry is None:
            try:
                # A savepoint, so a simultaneous join with the same email falls through to the update below.
                with transaction.atomic():
                    entry = WaitlistEntry.objects.create(cohort=cohort, joined_at=now, **values)
                    WaitlistStatusChange.objects.create(
                        entry=entry, from_status="", to_status=Status.WAITING, changed_at=now, note="Joined"
                    )
                outcome = "joined"
            except IntegrityError:
                entry = _locked_by_email(cohort=cohort, email=values["email"])
                if entry is None:
                    raise
        if entry.status == Status.WITHDRAWN:
            outcome = "rejoined"
            _set_status(entry=entry, to_status=Status.WAITING, note="Rejoined from the course page", now=now)
        elif outcome != "joined" and entry.status in (Status.INVITED, Status.ENROLLED):
            # An invitation (and what it is paid for) can only change from the private status page;
            # anyone can type an email address on the public form.
            outcome = "unchanged"
        elif outcome != "joined":
            outcome = "updated"
        if outcome in ("updated", "rejoined"):
            for name, value in values.items():
                setattr(entry, name, value)
            entry.save()
    entry.cohort = cohort
    place = _confirm_by_email(entry=entry, outcome=outcome)
    return JoinResult(entry=entry, outcome=outcome, place=place)


def update_entry(*, entry: WaitlistEntry, details: EntryDetails) -> WaitlistEntry:
    """Change someone's details from their status page; their place in line stays.

    Raises EmailTakenError when another entry on the same waitlist has the new email, WaitlistError.
    """
    values = _clean(details)
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        taken = (
            WaitlistEntry.objects.filter(cohort_id=locked.cohort_id, email__iexact=values["email"])
            .exclude(pk=locked.pk)
            .exists()
        )
        if taken:
            raise EmailTakenError("Another entry on this waitlist already uses that email.")
        for name, value in values.items():
            setattr(locked, name, value)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise EmailTakenError("Another entry on this waitlist already uses that email.") from None
    return locked


def withdraw(*, entry: WaitlistEntry, by=None, note: str = "Left from their status page") -> bool:
    """Take someone out of line. Returns whether anything changed (only waiting or invited entries can leave)."""
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status not in WaitlistEntry.IN_LINE:
            return False
        _set_status(entry=locked, to_status=Status.WITHDRAWN, by=by, note=note, now=timezone.now())
        locked.save()
    return True


def rejoin(*, entry: WaitlistEntry) -> bool:
    """Someone who left comes back, at the end of the line. Returns whether anything changed.

    Raises WaitlistClosedError.
    """
    if not entry.cohort.accepts_waitlist:
        raise WaitlistClosedError("The waitlist for this course is closed.")
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != Status.WITHDRAWN:
            return False
        _set_status(entry=locked, to_status=Status.WAITING, note="Rejoined from their status page", now=timezone.now())
        locked.save()
    return True


def change_status(*, entry: WaitlistEntry, to_status: str, by=None, note: str = "") -> bool:
    """Staff move an entry to another status; the change is recorded. Returns whether anything changed."""
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status == to_status:
            return False
        _set_status(entry=locked, to_status=to_status, by=by, note=note, now=timezone.now())
        locked.save()
    return True


def record_new_entry(*, entry: WaitlistEntry, by=None, note: str = "Added by staff") -> WaitlistStatusChange:
    """Record the first status of an entry created outside join_waitlist (admin's add form)."""
    return WaitlistStatusChange.objects.create(entry=entry, from_status="", to_status=entry.status, changed_by=by, note=note)


@dataclass(frozen=True)
class InviteResult:
    invited: list[WaitlistEntry]
    skipped: int
    failed: list[WaitlistEntry]


def invite_entries(*, entry_ids: list[int], by=None, now: datetime | None = None) -> InviteResult:
    """Invite waiting entries: mark them invited and send each one invitation email.

    Entries already invited, enrolled or withdrawn are skipped, so a second run
    sends nothing. Rows are locked first, so two staff clicking at once cannot
    both email the same person.
    """
    now = now or timezone.now()
    entry_ids = sorted(set(entry_ids))
    with transaction.atomic():
        invited = list(
            WaitlistEntry.objects.select_for_update()
            .filter(pk__in=entry_ids, status=Status.WAITING)
            .order_by("pk")
        )
        for entry in invited:
            _set_status(entry=entry, to_status=Status.INVITED, by=by, note="Invited", now=now)
            entry.save(update_fields=["status", "invited_at", "updated_at"])
    return InviteResult(invited=invited, skipped=len(entry_ids) - len(invited), failed=_send_invitations(invited))


def resend_invitations(*, entry_ids: list[int]) -> InviteResult:
    """Send the invitation email again to entries that are invited (after a mail outage, or a lost email)."""
    invited = list(WaitlistEntry.objects.filter(pk__in=set(entry_ids), status=Status.INVITED))
    return InviteResult(invited=invited, skipped=len(set(entry_ids)) - len(invited), failed=_send_invitations(invited))


def _send_invitations(entries: list[WaitlistEntry]) -> list[WaitlistEntry]:
    """Email each entry its invitation; returns the ones the mail server refused."""
    cohorts = {c.pk: c for c in Cohort.objects.filter(pk__in={e.cohort_id for e in entries})}
    failed = []
    for entry in sorted(entries, key=lambda e: (e.joined_at, e.pk)):
        entry.cohort = cohorts[entry.cohort_id]
        try:
            emails.send_invitation(entry=entry)
        except Exception:
            logger.exception("Could not send the invitation to waitlist entry %s", entry.pk)
            failed.append(entry)
    return failed


def confirm_seat(*, entry: WaitlistEntry, now: datetime | None = None) -> bool:
    """An invited person confirms from their invitation page that they want a seat. Returns whether it is new.

    Raises NotInvitedError when they have not been invited (or have left).
    """
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status not in (Status.INVITED, Status.ENROLLED):
            raise NotInvitedError("This invitation is no longer open.")
        if locked.seat_confirmed_at is not None:
            return False
        locked.seat_confirmed_at = now or timezone.now()
        locked.save(update_fields=["seat_confirmed_at", "updated_at"])
    return True


# --- Paying for the course: the registrations checkout, reached from an invitation ---------

DEFAULT_COURSE_CAPACITY = 100


class EnrolmentError(WaitlistError):
    pass


def _course_registration_closes(cohort: Cohort) -> datetime:
    start = datetime.combine(cohort.start_month, datetime.min.time())
    return timezone.make_aware(start, zoneinfo.ZoneInfo(cohort.time_zone))


def sync_offering(*, cohort: Cohort) -> Workshop | None:
    """Keep the course's unlisted registration offering in step with the cohort.

    Once staff set the cohort to open with a price, invited people can pay for seats
    through the same checkout as workshops (holds, Stripe, webhooks, receipts).
    Closing the cohort closes the offering's registration.
    """
    if cohort.offering_id is None and (cohort.status != Cohort.Status.OPEN or not cohort.price_cents):
        return None
    with transaction.atomic():
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        offering = cohort.offering or Workshop(slug=f"{cohort.slug[:80]}-course-seats", is_listed=False)
        is_open = cohort.status == Cohort.Status.OPEN and bool(cohort.price_cents)
        offering.title = cohort.title
        offering.summary = cohort.summary
        offering.description = cohort.description
        offering.outcomes = cohort.outcomes
        offering.audiences = cohort.audiences
        offering.platform = cohort.platform
        offering.time_zone = cohort.time_zone
        offering.prework_hours = 0
        offering.live_hours = 0
        offering.capacity = cohort.capacity or DEFAULT_COURSE_CAPACITY
        offering.is_published = is_open
        offering.is_listed = False
        offering.registration_closes_at = _course_registration_closes(cohort)
        offering.save()
        if cohort.price_cents:
            PriceTier.objects.update_or_create(
                workshop=offering, min_seats=1, defaults={"unit_price_cents": cohort.price_cents}
            )
            PriceTier.objects.filter(workshop=offering).exclude(min_seats=1).delete()
        if cohort.offering_id != offering.pk:
            cohort.offering = offering
            cohort.save(update_fields=["offering", "updated_at"])
    return offering


def _course_order(entry: WaitlistEntry) -> Order | None:
    if not entry.order_token:
        return None
    try:
        return order_for_token(entry.order_token)
    except Order.DoesNotExist:
        return None


def course_order(*, entry: WaitlistEntry) -> Order | None:
    """The order paying for this entry's course seats, if one was started."""
    return _course_order(entry)


def course_quote(*, entry: WaitlistEntry) -> PriceQuote | None:
    """What the entry would pay now, or None while the course is not open for payment."""
    cohort = entry.cohort
    if cohort.status != Cohort.Status.OPEN or cohort.offering_id is None or not cohort.price_cents:
        return None
    return quote_for(tiers=list(cohort.offering.price_tiers.all()), seat_count=entry.team_size)


def start_enrolment(*, entry: WaitlistEntry) -> str:
    """An invited person starts paying for their course seat(s); returns the checkout URL.

    Seats are the entry's team size at the cohort's price, held and paid exactly like
    workshop seats. Raises EnrolmentError, registrations' NotEnoughSeatsError /
    RegistrationError, and PaymentProviderError (the order is kept for a retry).
    """
    entry = WaitlistEntry.objects.select_related("cohort__offering").get(pk=entry.pk)
    cohort = entry.cohort
    if entry.status == Status.ENROLLED:
        raise EnrolmentError("You are already enrolled in the course.")
    if entry.status != Status.INVITED:
        raise EnrolmentError("Registration is by invitation from the waitlist, and this invitation is not open.")
    if cohort.status != Cohort.Status.OPEN or cohort.offering is None or not cohort.offering.is_published:
        raise EnrolmentError("Registration for the course is not open yet. We will email you when it is.")
    with transaction.atomic():
        # Two clicks at once must not leave two payable orders: the entry row is the gate.
        entry = WaitlistEntry.objects.select_for_update(of=("self",)).select_related("cohort__offering").get(pk=entry.pk)
        previous = _course_order(entry)
        if previous is not None and previous.status == Order.Status.PAID:
            raise EnrolmentError("Your course seats are already paid.")
        if previous is not None and previous.status == Order.Status.PROCESSING:
            raise EnrolmentError("Your payment is being processed by your bank; we will email you when it clears.")
        if previous is None or previous.status != Order.Status.PENDING:
            previous = place_order(
                workshop=cohort.offering,
                buyer_name=entry.name,
                buyer_email=entry.email,
                organisation=entry.organisation or entry.name,
                role=entry.role,
                seat_count=entry.team_size,
                buyer_attends=True,
                attendees=[],
            )
            WaitlistEntry.objects.filter(pk=entry.pk).update(order_token=previous.token, updated_at=timezone.now())
    return start_checkout(order=previous)


def sync_enrolment(*, entry: WaitlistEntry, by=None) -> bool:
    """Mark an invited entry enrolled once its course order is paid. Returns whether it changed."""
    if entry.status != Status.INVITED or not entry.order_token:
        return False
    order = _course_order(entry)
    if order is None or order.status != Order.Status.PAID:
        return False
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != Status.INVITED:
            return False
        _set_status(entry=locked, to_status=Status.ENROLLED, by=by, note=f"Paid order {order.reference}", now=timezone.now())
        locked.save(update_fields=["status", "updated_at"])
    entry.status = Status.ENROLLED
    return True
