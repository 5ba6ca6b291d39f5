"""Writes for the cohort waitlist. Every function is keyword-only and owns its transaction.

Emails go out after the transaction has committed, so nobody is told about a
change that was rolled back.

The public form answers everyone the same way: whether an email is on the list, and what its
entry says, is told only to that inbox. An entry changes only from its own private page.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import emails
from ..models import MAX_TEAM_SIZE, Cohort, WaitlistEntry, WaitlistStatusChange, new_token
from ..selectors import place_in_line

logger = logging.getLogger(__name__)

Status = WaitlistEntry.Status

# Once invited, the invitation (and the seats it is paid for) is for this many people.
FROZEN_STATUSES = (Status.INVITED, Status.ENROLLED)
EMAIL_CHANGE_SALT = "cohorts.waitlist.email-change"


class WaitlistError(Exception):
    """A problem the person can act on; the message is shown to them."""

    field: str | None = None


class WaitlistClosedError(WaitlistError):
    pass


class EmailTakenError(WaitlistError):
    field = "email"


class TeamSizeFrozenError(WaitlistError):
    field = "team_size"


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
    """What happened, for the inbox's email only: the page shows every visitor the same answer."""

    entry: WaitlistEntry
    outcome: str  # "joined" (a new entry) or "existing" (the email was already on the list; nothing changed)


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


def _email_link(*, entry: WaitlistEntry, outcome: str) -> None:
    try:
        emails.send_waitlist_link(entry=entry, outcome=outcome, place=place_in_line(entry=entry))
    except Exception:
        # The entry is saved and the person is told to check their inbox; a mail outage must not undo that.
        logger.exception("Could not send the waitlist link for entry %s", entry.pk)


def join_waitlist(*, cohort: Cohort, details: EntryDetails, now: datetime | None = None) -> JoinResult:
    """Put a new email on a cohort's waitlist; for an email already on it, change nothing and email its link.

    Either way exactly one email goes to the address typed (case ignored), carrying the link to that
    entry's private page, and the caller shows the same answer: typing someone's address reveals
    nothing and alters nothing of theirs. Someone who had left rejoins from their page.
    Raises WaitlistClosedError, WaitlistError.
    """
    if not cohort.accepts_waitlist:
        raise WaitlistClosedError("The waitlist for this course is closed.")
    values = _clean(details)
    now = now or timezone.now()
    outcome = "existing"
    with transaction.atomic():
        entry = _locked_by_email(cohort=cohort, email=values["email"])
        if entry is None:
            try:
                # A savepoint, so a simultaneous join with the same email finds the other's entry below.
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
    entry.cohort = cohort
    _email_link(entry=entry, outcome=outcome)
    return JoinResult(entry=entry, outcome=outcome)


@dataclass(frozen=True)
class UpdateResult:
    entry: WaitlistEntry
    pending_email: str = ""  # a new address waiting for its owner to confirm it


def update_entry(*, entry: WaitlistEntry, details: EntryDetails) -> UpdateResult:
    """Change someone's details from their private page; their place in line stays.

    Once invited, the kind and team size stay as invited (the invitation, and what it is paid
    for, is for that many people). A new email address is not taken at once: a confirmation link
    goes to it, and the address changes when its owner opens the link, so nobody can point an
    entry at someone else's address and read what the page says about them.
    Raises TeamSizeFrozenError, WaitlistError.
    """
    values = _clean(details)
    new_email = values.pop("email")
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status in FROZEN_STATUSES and (values["kind"], values["team_size"]) != (locked.kind, locked.team_size):
            raise TeamSizeFrozenError(
                f"Your invitation is for {locked.people_label.lower()}; to change that, please write to us."
            )
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*values, "updated_at"])
    pending = new_email if new_email.lower() != locked.email.lower() else ""
    if pending:
        _email_change_link(entry=locked, new_email=pending)
    return UpdateResult(entry=locked, pending_email=pending)


def _token_digest(token: str) -> str:
    # The confirmation link is readable base64: it names the entry's token only by a digest.
    return hashlib.sha256(token.encode()).hexdigest()[:20]


def _email_change_link(*, entry: WaitlistEntry, new_email: str) -> None:
    signed = signing.dumps({"e": entry.pk, "t": _token_digest(entry.token), "m": new_email}, salt=EMAIL_CHANGE_SALT)
    try:
        emails.send_email_change(entry=entry, new_email=new_email, signed=signed)
    except Exception:
        logger.exception("Could not send the email-change confirmation for entry %s", entry.pk)


def confirm_email_change(*, signed: str) -> WaitlistEntry:
    """The owner of a new address opens the link sent to it: the entry takes that address and a new private
    link (the old one stops working), emailed to the new address.

    Raises WaitlistError for an expired, altered or used link, EmailTakenError when the address
    already has its own entry on this waitlist.
    """
    try:
        data = signing.loads(signed, salt=EMAIL_CHANGE_SALT, max_age=settings.WAITLIST_EMAIL_CHANGE_DAYS * 86400)
    except signing.BadSignature:
        raise WaitlistError(
            "This confirmation link has expired or is not complete. Ask for a new one from your waitlist page."
        ) from None
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().select_related("cohort").filter(pk=data["e"]).first()
        if locked is None or _token_digest(locked.token) != data["t"]:
            raise WaitlistError("This confirmation link has already been used, or the entry has changed since.")
        if WaitlistEntry.objects.filter(cohort_id=locked.cohort_id, email__iexact=data["m"]).exclude(pk=locked.pk).exists():
            raise EmailTakenError("This address already has its own entry on this waitlist, so nothing was changed.")
        locked.email = data["m"]
        locked.token = new_token()
        try:
            with transaction.atomic():
                locked.save(update_fields=["email", "token", "updated_at"])
        except IntegrityError:
            raise EmailTakenError(
                "This address already has its own entry on this waitlist, so nothing was changed."
            ) from None
    _email_link(entry=locked, outcome="moved")
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
