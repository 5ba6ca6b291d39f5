"""Writes for the cohort waitlist. Every function is keyword-only and owns its transaction.

Emails go out after the transaction has committed, so nobody is told about a
change that was rolled back.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

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
        elif outcome != "joined":
            outcome = "updated"
        if outcome != "joined":
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
