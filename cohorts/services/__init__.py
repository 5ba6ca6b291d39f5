"""Writes for the cohort course, one module per capability: the waitlist, paying for the course, privacy.

Everything is importable from `cohorts.services`, as before the split.
"""

from .enrolment import (
    DEFAULT_COURSE_CAPACITY,
    EnrolmentError,
    course_order,
    course_quote,
    start_enrolment,
    sync_enrolment,
    sync_offering,
)
from .waitlist import (
    EmailTakenError,
    EntryDetails,
    InviteResult,
    JoinResult,
    NotInvitedError,
    TeamSizeFrozenError,
    UpdateResult,
    WaitlistClosedError,
    WaitlistError,
    change_status,
    confirm_email_change,
    confirm_seat,
    invite_entries,
    join_waitlist,
    record_new_entry,
    rejoin,
    resend_invitations,
    update_entry,
    withdraw,
)

__all__ = [
    "DEFAULT_COURSE_CAPACITY",
    "EmailTakenError",
    "EnrolmentError",
    "EntryDetails",
    "InviteResult",
    "JoinResult",
    "NotInvitedError",
    "TeamSizeFrozenError",
    "UpdateResult",
    "WaitlistClosedError",
    "WaitlistError",
    "change_status",
    "confirm_email_change",
    "confirm_seat",
    "course_order",
    "course_quote",
    "invite_entries",
    "join_waitlist",
    "record_new_entry",
    "rejoin",
    "resend_invitations",
    "start_enrolment",
    "sync_enrolment",
    "sync_offering",
    "update_entry",
    "withdraw",
]
