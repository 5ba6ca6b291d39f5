"""Reads for the course pages and the waitlist: place in line, prerequisite met, featured cohort."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Lower

# Whether someone took the workshop is registrations' knowledge; cohorts only asks its selector.
from registrations.selectors.order_pages import TOKEN_PATTERN
from registrations.selectors.progress import emails_meeting_prerequisite

from .models import Cohort, CohortTouchPoint, WaitlistEntry


def cohorts_for_pages() -> QuerySet[Cohort]:
    """Published cohorts with their touch points and prerequisite workshop: two queries, however long the waitlist."""
    return (
        Cohort.objects.published()
        .select_related("prerequisite_workshop")
        .prefetch_related(Prefetch("touch_points", queryset=CohortTouchPoint.objects.order_by("month", "position", "pk")))
    )


def featured_cohort() -> Cohort | None:
    """The cohort course shown on the home page: the earliest published one not yet closed."""
    return (
        Cohort.objects.published()
        .exclude(status=Cohort.Status.CLOSED)
        .order_by("start_month", "pk")
        .first()
    )


def entry_for_token(token: str) -> WaitlistEntry:
    """The entry a waitlist link belongs to. Raises WaitlistEntry.DoesNotExist.

    Waitlist tokens have the same shape as order and seat tokens; anything else (a NUL byte,
    which PostgreSQL rejects with an error, or a huge string) is refused before any query.
    """
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise WaitlistEntry.DoesNotExist
    return WaitlistEntry.objects.select_related("cohort__prerequisite_workshop").get(token=token)


def place_in_line(*, entry: WaitlistEntry) -> int | None:
    """1 for the first person in line; None for someone not in line (withdrawn or enrolled)."""
    if not entry.is_in_line:
        return None
    ahead = WaitlistEntry.objects.filter(cohort_id=entry.cohort_id, status__in=WaitlistEntry.IN_LINE).filter(
        Q(joined_at__lt=entry.joined_at) | Q(joined_at=entry.joined_at, pk__lt=entry.pk)
    )
    return ahead.count() + 1


def attach_prerequisite_met(entries: Iterable[WaitlistEntry]) -> list[WaitlistEntry]:
    """Set `prerequisite_met` on each entry, with one lookup per prerequisite workshop, not per entry.

    Entries need their cohort loaded (select_related) to keep this query-free beyond the lookups.
    An entry whose cohort has no prerequisite meets it.
    """
    entries = list(entries)
    by_workshop: dict[int, list[WaitlistEntry]] = defaultdict(list)
    for entry in entries:
        workshop_id = entry.cohort.prerequisite_workshop_id
        if workshop_id is None:
            entry.prerequisite_met = True
        else:
            by_workshop[workshop_id].append(entry)
    for workshop_id, group in by_workshop.items():
        met = emails_meeting_prerequisite(workshop_id=workshop_id, emails=[e.email for e in group])
        for entry in group:
            entry.prerequisite_met = entry.email.strip().lower() in met
    return entries


def filter_by_prerequisite(queryset: QuerySet[WaitlistEntry], *, met: bool) -> QuerySet[WaitlistEntry]:
    """Entries whose email does (or does not) meet their cohort's prerequisite."""
    emails_by_workshop: dict[int, set[str]] = defaultdict(set)
    for workshop_id, email in queryset.order_by().values_list("cohort__prerequisite_workshop_id", "email"):
        if workshop_id is not None:
            emails_by_workshop[workshop_id].add(email)
    condition = Q(cohort__prerequisite_workshop__isnull=True)
    for workshop_id, emails in emails_by_workshop.items():
        found = emails_meeting_prerequisite(workshop_id=workshop_id, emails=list(emails))
        if found:
            condition |= Q(cohort__prerequisite_workshop_id=workshop_id, email_lower__in=found)
    annotated = queryset.annotate(email_lower=Lower("email"))
    return annotated.filter(condition) if met else annotated.exclude(condition)


def cohorts_with_waitlist_counts() -> QuerySet[Cohort]:
    """Cohorts not closed, with `waiting`, `invited` and `enrolled` entry counts (the admin home's course card)."""
    by_status = {
        name: Count("waitlist_entries", filter=Q(waitlist_entries__status=status))
        for name, status in (
            ("waiting", WaitlistEntry.Status.WAITING),
            ("invited", WaitlistEntry.Status.INVITED),
            ("enrolled", WaitlistEntry.Status.ENROLLED),
        )
    }
    return Cohort.objects.exclude(status=Cohort.Status.CLOSED).annotate(**by_status).order_by("start_month", "pk")
