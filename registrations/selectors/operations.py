"""The admin home's figures: for each upcoming (or past) workshop, what staff need to act on."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from workshops.models import Session, Workshop

from ..models import Order, SeatAlert
from .ledger import with_workshop_money
from .staff_reports import (
    roster,
    with_seat_counts,
)


@dataclass
class WorkshopOperations:
    """One workshop's card on the admin home. Money comes from ledger.with_workshop_money."""

    workshop: Workshop
    sessions: list[Session]
    seats_sold: int
    seats_held: int
    paid_cents: int
    refunded_cents: int
    net_cents: int
    attendees: int = 0  # active seats of paid orders, named or not
    prework_finished: int = 0  # of the named ones: a seat nobody holds yet has no one to do pre-work
    access_needs: int = 0
    unnamed: int = 0
    invoices_due: int = 0
    invoices_due_cents: int = 0
    invoices_overdue: int = 0
    invoices_overdue_cents: int = 0
    waiting_for_seat: int = 0
    needs_review: int = 0
    sessions_today: list[Session] = field(default_factory=list)

    @property
    def seats_left(self) -> int:
        return max(self.workshop.capacity - self.seats_sold - self.seats_held, 0)

    @property
    def named(self) -> int:
        return self.attendees - self.unnamed

    @property
    def prework_unfinished(self) -> int:
        return self.named - self.prework_finished


def _workshops(*, now: datetime, past: bool) -> QuerySet[Workshop]:
    """Upcoming: a session still to end, or no sessions yet (being set up). Past: every session over."""
    own = Session.objects.filter(workshop=OuterRef("pk"))
    workshops = Workshop.objects.annotate(
        first_start=Subquery(own.order_by("starts_at").values("starts_at")[:1]),
        last_end=Subquery(own.order_by("-ends_at").values("ends_at")[:1]),
    )
    if past:
        return workshops.filter(last_end__lte=now).order_by("-last_end", "-pk")
    return workshops.filter(Q(last_end__gt=now) | Q(last_end__isnull=True)).order_by(
        F("first_start").asc(nulls_last=True), "pk"
    )


def past_workshop_count(*, now: datetime | None = None) -> int:
    return _workshops(now=now or timezone.now(), past=True).count()


def operations_overview(*, now: datetime | None = None, past: bool = False) -> list[WorkshopOperations]:
    """Every upcoming (or past) workshop with its figures, in a fixed number of queries however many
    orders, seats and workshops there are (one row per attendee is read to count pre-work and needs)."""
    now = now or timezone.now()
    workshops = list(with_workshop_money(with_seat_counts(_workshops(now=now, past=past), now=now)))
    ids = [w.pk for w in workshops]
    if not ids:
        return []
    sessions = defaultdict(list)
    for session in Session.objects.filter(workshop_id__in=ids).order_by("starts_at", "pk"):
        sessions[session.workshop_id].append(session)
    cards = {
        w.pk: WorkshopOperations(
            workshop=w,
            sessions=sessions[w.pk],
            seats_sold=w.seats_sold,
            seats_held=w.seats_held,
            paid_cents=w.paid_cents,
            refunded_cents=w.refunded_cents,
            net_cents=w.net_cents,
            sessions_today=[s for s in sessions[w.pk] if _same_day(s.starts_at, now, w.tz)],
        )
        for w in workshops
    }
    _count_attendees(cards, ids)
    _count_invoices(cards, ids, now)
    for row in Order.objects.filter(workshop_id__in=ids, payment_needs_review=True).values("workshop_id").annotate(
        n=Count("pk")
    ):
        cards[row["workshop_id"]].needs_review = row["n"]
    for row in SeatAlert.objects.filter(workshop_id__in=ids, notified_at__isnull=True).values("workshop_id").annotate(
        n=Count("pk")
    ):
        cards[row["workshop_id"]].waiting_for_seat = row["n"]
    return list(cards.values())


def _same_day(value: datetime, now: datetime, zone) -> bool:
    return timezone.localtime(value, zone).date() == timezone.localtime(now, zone).date()


def _count_attendees(cards: dict[int, WorkshopOperations], ids: list[int]) -> None:
    rows = roster(session_count=0).filter(order__workshop_id__in=ids).values_list(
        "order__workshop_id", "attendee_email", "needs_captions", "needs_interpreter", "access_note",
        "prework_minutes_done", "prework_minutes_total",
    )
    for workshop_id, email, captions, interpreter, note, done, total in rows:
        card = cards[workshop_id]
        card.attendees += 1
        card.unnamed += not email
        card.access_needs += bool(captions or interpreter or note)
        card.prework_finished += bool(email) and done >= total


def _count_invoices(cards: dict[int, WorkshopOperations], ids: list[int], now: datetime) -> None:
    unpaid = (
        Order.objects.filter(
            workshop_id__in=ids, status=Order.Status.PENDING, payment_method=Order.PaymentMethod.INVOICE
        )
        .alias(due=Coalesce("invoice_due_at", "hold_expires_at"))
        .values("workshop_id")
        .annotate(
            due_n=Count("pk", filter=Q(due__gt=now)),
            due_cents=Sum("total_cents", filter=Q(due__gt=now), default=0),
            overdue_n=Count("pk", filter=Q(due__lte=now)),
            overdue_cents=Sum("total_cents", filter=Q(due__lte=now), default=0),
        )
    )
    for row in unpaid:
        card = cards[row["workshop_id"]]
        card.invoices_due, card.invoices_due_cents = row["due_n"], row["due_cents"]
        card.invoices_overdue, card.invoices_overdue_cents = row["overdue_n"], row["overdue_cents"]
