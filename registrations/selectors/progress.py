"""Pre-work, attendance and completion as an attendee's page, reminders and certificates see them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from workshops.models import PreworkFile, PreworkModule, Session

from ..models import (
    CERTIFICATE_CODE_LENGTH,
    REFERENCE_ALPHABET,
    Certificate,
    Order,
    PreworkCompletion,
    ReminderSent,
    Seat,
)


def prework_minutes_done() -> Coalesce:
    """Annotation: minutes of the seat's own workshop's pre-work the seat has marked done."""
    done = (
        PreworkCompletion.objects.filter(seat=OuterRef("pk"), module__workshop=OuterRef("order__workshop"))
        .order_by()
        .values("seat")
        .annotate(minutes=Sum("module__minutes"))
        .values("minutes")
    )
    return Coalesce(Subquery(done, output_field=IntegerField()), 0)


def prework_minutes_total() -> Coalesce:
    """Annotation: minutes of pre-work the seat's workshop asks for."""
    total = (
        PreworkModule.objects.filter(workshop=OuterRef("order__workshop"))
        .order_by()
        .values("workshop")
        .annotate(minutes=Sum("minutes"))
        .values("minutes")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


@dataclass(frozen=True)
class PreworkItem:
    module: PreworkModule
    done: bool


@dataclass(frozen=True)
class SessionAccess:
    number: int
    session: Session
    link_opens_at: datetime
    link_visible: bool  # paid, inside the window, and staff have set a link
    has_ended: bool


@dataclass(frozen=True)
class Completion:
    """How far a seat is towards its certificate."""

    is_paid_seat: bool
    prework_modules_done: int
    prework_modules_total: int
    sessions_attended: int
    sessions_total: int

    @property
    def prework_finished(self) -> bool:
        return self.prework_modules_done >= self.prework_modules_total

    @property
    def sessions_finished(self) -> bool:
        return self.sessions_total > 0 and self.sessions_attended >= self.sessions_total

    @property
    def is_complete(self) -> bool:
        """Certificate-worthy: a paid seat that finished every pre-work module and attended every session."""
        return self.is_paid_seat and self.prework_finished and self.sessions_finished


def completion_for_seat(seat: Seat) -> Completion:
    workshop_id = seat.order.workshop_id
    return Completion(
        is_paid_seat=seat.status == Seat.Status.ACTIVE and seat.order.status == Order.Status.PAID,
        prework_modules_done=seat.prework_completions.filter(module__workshop_id=workshop_id).count(),
        prework_modules_total=PreworkModule.objects.filter(workshop_id=workshop_id).count(),
        sessions_attended=seat.attendances.filter(session__workshop_id=workshop_id).count(),
        sessions_total=Session.objects.filter(workshop_id=workshop_id).count(),
    )


def completion_earned_at(seat: Seat, *, now: datetime) -> datetime:
    """When the seat finished everything: the end of the last session attended or the last pre-work
    module done, whichever is later (never after `now`). A certificate carries this date, not the day
    someone first downloaded it."""
    workshop_id = seat.order.workshop_id
    last_session = seat.attendances.filter(session__workshop_id=workshop_id).aggregate(at=Max("session__ends_at"))["at"]
    last_module = seat.prework_completions.filter(module__workshop_id=workshop_id).aggregate(at=Max("completed_at"))["at"]
    moments = [m for m in (last_session, last_module) if m is not None]
    return min(max(moments), now) if moments else now


@dataclass(frozen=True)
class SeatOverview:
    seat: Seat
    prework: list[PreworkItem]
    prework_minutes_done: int
    prework_minutes_total: int
    sessions: list[SessionAccess]
    completion: Completion
    certificate: Certificate | None

    @property
    def prework_finished(self) -> bool:
        return all(item.done for item in self.prework)

    @property
    def certificate_available(self) -> bool:
        return self.completion.is_complete and not (self.certificate and self.certificate.is_revoked)


def session_access(*, seat: Seat, now: datetime | None = None) -> list[SessionAccess]:
    """Each session of the seat's workshop and whether its meeting link may be shown now.

    A link shows only on a paid order, from `session_link_lead_minutes` before the start until the end.
    """
    now = now or timezone.now()
    workshop = seat.order.workshop
    lead = timedelta(minutes=workshop.session_link_lead_minutes)
    rows = []
    for number, session in enumerate(workshop.session_list, start=1):
        opens_at = session.starts_at - lead
        rows.append(
            SessionAccess(
                number=number,
                session=session,
                link_opens_at=opens_at,
                link_visible=seat.order.is_paid and bool(session.meeting_url) and opens_at <= now < session.ends_at,
                has_ended=now >= session.ends_at,
            )
        )
    return rows


def seat_overview(*, seat: Seat, now: datetime | None = None) -> SeatOverview:
    """What an attendee's page shows: their own pre-work and sessions, nothing about other seats."""
    workshop = seat.order.workshop
    modules = list(workshop.prework_modules.all())
    done_ids = set(seat.prework_completions.filter(module__in=modules).values_list("module_id", flat=True))
    attended = seat.attendances.filter(session__workshop_id=workshop.pk).count()
    items = [PreworkItem(module=m, done=m.pk in done_ids) for m in modules]
    return SeatOverview(
        seat=seat,
        prework=items,
        prework_minutes_done=sum(i.module.minutes for i in items if i.done),
        prework_minutes_total=sum(m.minutes for m in modules),
        sessions=session_access(seat=seat, now=now),
        completion=Completion(
            is_paid_seat=seat.order.is_paid,
            prework_modules_done=len(done_ids),
            prework_modules_total=len(modules),
            sessions_attended=attended,
            sessions_total=len(workshop.session_list),
        ),
        certificate=Certificate.objects.filter(seat=seat).first(),
    )


def prework_module_for_seat(*, seat: Seat, module_id: int) -> PreworkModule:
    """Raises PreworkModule.DoesNotExist when the module is not part of the seat's workshop."""
    return (
        PreworkModule.objects.select_related("file").defer("file__data")
        .get(pk=module_id, workshop_id=seat.order.workshop_id)
    )


def prework_file_for_seat(*, seat: Seat, module_id: int) -> PreworkFile:
    """The file of one of the seat's modules, with its data. Raises PreworkFile.DoesNotExist."""
    return PreworkFile.objects.get(module_id=module_id, module__workshop_id=seat.order.workshop_id)


def prework_module_done(*, seat: Seat, module: PreworkModule) -> bool:
    return seat.prework_completions.filter(module=module).exists()


def session_for_seat(*, seat: Seat, number: int) -> Session:
    """The seat's workshop's session by its number (1 = first). Raises Session.DoesNotExist."""
    sessions = seat.order.workshop.session_list
    if not 1 <= number <= len(sessions):
        raise Session.DoesNotExist
    return sessions[number - 1]


def emails_meeting_prerequisite(*, workshop_id: int, emails: list[str]) -> set[str]:
    """Which of these emails (compared lower-cased) hold a seat on a paid order of the workshop, or attended it."""
    from django.db.models.functions import Lower

    wanted = {e.strip().lower() for e in emails if e}
    if not wanted:
        return set()
    seats = (
        Seat.objects.annotate(email_lower=Lower("attendee_email"))
        .filter(order__workshop_id=workshop_id, email_lower__in=wanted)
        .filter(Q(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID) | Q(attendances__isnull=False))
        .values_list("email_lower", flat=True)
        .distinct()
    )
    return set(seats)


def paid_for_seats(*, workshop_id: int, email: str) -> bool:
    """Whether this email paid for seats of the workshop (as the buyer; the seats may be other people's)."""
    email = email.strip()
    return bool(email) and Order.objects.filter(
        workshop_id=workshop_id, kind=Order.Kind.PURCHASE, status=Order.Status.PAID, buyer_email__iexact=email
    ).exists()


def attendee_seats() -> QuerySet[Seat]:
    """Named, active seats of paid orders: the people who come to the workshop."""
    return Seat.objects.filter(status=Seat.Status.ACTIVE, order__status=Order.Status.PAID).exclude(attendee_email="")


def seats_due_prework_reminder(*, now: datetime, days_before: int) -> QuerySet[Seat]:
    """Attendees with pre-work left whose first session is at most `days_before` days away and not yet begun."""
    first_start = (
        Session.objects.filter(workshop=OuterRef("order__workshop")).order_by("starts_at").values("starts_at")[:1]
    )
    already = ReminderSent.objects.filter(seat=OuterRef("pk"), kind=ReminderSent.Kind.PREWORK)
    return (
        attendee_seats()
        .annotate(
            first_session_starts_at=Subquery(first_start),
            prework_minutes_done=prework_minutes_done(),
            prework_minutes_total=prework_minutes_total(),
        )
        .filter(
            first_session_starts_at__gt=now,
            first_session_starts_at__lte=now + timedelta(days=days_before),
            prework_minutes_done__lt=F("prework_minutes_total"),
        )
        .exclude(Exists(already))
        .select_related("order__workshop")
        .order_by("pk")
    )


def sessions_due_reminder(*, now: datetime, hours_before: int) -> QuerySet[Session]:
    """Sessions starting within the next `hours_before` hours."""
    return (
        Session.objects.filter(starts_at__gt=now, starts_at__lte=now + timedelta(hours=hours_before))
        .select_related("workshop")
        .order_by("starts_at")
    )


def seats_due_session_reminder(*, session: Session) -> QuerySet[Seat]:
    already = ReminderSent.objects.filter(seat=OuterRef("pk"), kind=ReminderSent.Kind.SESSION, session=session)
    return (
        attendee_seats()
        .filter(order__workshop_id=session.workshop_id)
        .exclude(Exists(already))
        .select_related("order__workshop")
        .order_by("pk")
    )


def certificate_for_code(code: str) -> Certificate:
    """A certificate by its verification code, forgiving case, spaces and dashes.

    Raises Certificate.DoesNotExist for an unknown or malformed code.
    """
    normalised = (code or "").replace("-", "").replace(" ", "").upper()
    if len(normalised) != CERTIFICATE_CODE_LENGTH or any(c not in REFERENCE_ALPHABET for c in normalised):
        raise Certificate.DoesNotExist
    return (
        Certificate.objects.select_related("seat__order__workshop")
        .prefetch_related(Prefetch("seat__order__workshop__sessions", queryset=Session.objects.order_by("starts_at")))
        .get(code=normalised)
    )
