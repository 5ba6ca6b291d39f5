"""Erasing one person from the course waitlist: their entries stay as anonymous, withdrawn places in line."""

from django.utils import timezone

from registrations.models import erased_address

from ..models import WaitlistEntry, new_token
from .waitlist import Status, _set_status

ERASED = "[erased]"


def erase_waitlist_entries(*, email: str, by=None) -> list[WaitlistEntry]:
    """Anonymise every waitlist entry of one email address. Call inside a transaction.

    Name, address and note are replaced, the private link stops working, and an entry still in line
    is withdrawn (recorded, as staff's change). The course order an enrolled entry paid with is a
    money record: registrations erases its buyer details from the same address.
    """
    erased = []
    now = timezone.now()
    for entry in WaitlistEntry.objects.select_for_update().filter(email__iexact=email.strip()):
        if entry.status in WaitlistEntry.IN_LINE:
            _set_status(entry=entry, to_status=Status.WITHDRAWN, by=by, note="Personal data erased on request", now=now)
        entry.name, entry.email, entry.note = ERASED, erased_address("waitlist", entry.pk), ""
        entry.token = new_token()
        entry.save()
        erased.append(entry)
    return erased
