"""The admin home: each upcoming workshop's figures, each a link to the list behind it."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from cohorts.selectors import cohorts_with_waitlist_counts
from registrations.selectors.operations import WorkshopOperations, operations_overview, past_workshop_count
from registrations.selectors.staff_reports import ACCESS_NEEDS_PERMISSION
from workshops.adminforms import zone_label
from workshops.templatetags.workshop_tags import usd


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    url: str = ""
    note: str = ""
    note_url: str = ""
    attention: bool = False  # something to act on, shown highlighted
    key: str = ""


def _list(name: str, **params) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


class _Perms:
    def __init__(self, user):
        self.money = user.has_perm("registrations.view_order")
        self.payments = user.has_perm("registrations.view_payment")
        self.roster = user.has_perm("registrations.view_rosterseat")
        self.needs = self.roster and user.has_perm(ACCESS_NEEDS_PERMISSION)
        self.workshops = user.has_perm("workshops.view_workshop")
        self.alerts = user.has_perm("registrations.view_seatalert")
        self.waitlist = user.has_perm("cohorts.view_waitlistentry")


def _seat_figures(card: WorkshopOperations, can: _Perms) -> list[Figure]:
    w = card.workshop.pk
    figures = [
        Figure(
            "Seats sold", f"{card.seats_sold} of {card.workshop.capacity}", key="sold",
            url=_list("registrations_rosterseat", order__workshop__id__exact=w) if can.roster else "",
        )
    ]
    if can.money:
        figures.append(Figure("Seats held", str(card.seats_held), key="held",
                              url=_list("registrations_order", workshop__id__exact=w, queue="held"),
                              note="in a checkout or an unpaid invoice"))
    figures.append(Figure(
        "Seats left", str(card.seats_left), key="left",
        url=reverse("admin:workshops_workshop_change", args=[w]) if can.workshops else "",
        note="change the capacity" if can.workshops else "",
    ))
    return figures


def _money_figures(card: WorkshopOperations, can: _Perms) -> list[Figure]:
    if not can.money:
        return []
    w = card.workshop.pk
    return [
        Figure(
            "Net revenue", usd(card.net_cents), key="net",
            url=_list("registrations_order", workshop__id__exact=w, queue="money"),
            note=f"paid {usd(card.paid_cents)}, refunded {usd(card.refunded_cents)}",
        ),
        Figure(
            "Payments needing review", str(card.needs_review), key="review", attention=card.needs_review > 0,
            url=_list("registrations_order", workshop__id__exact=w, queue="review"),
            note="a payment or refund staff must look at",
        ),
        Figure(
            "Invoices due", str(card.invoices_due), key="invoices_due",
            url=_list("registrations_order", workshop__id__exact=w, queue="invoice_due"),
            note=usd(card.invoices_due_cents) if card.invoices_due else "",
        ),
        Figure(
            "Invoices overdue", str(card.invoices_overdue), key="invoices_overdue",
            url=_list("registrations_order", workshop__id__exact=w, queue="invoice_overdue"),
            note=usd(card.invoices_overdue_cents) if card.invoices_overdue else "", attention=card.invoices_overdue > 0,
        ),
    ]


def _people_figures(card: WorkshopOperations, can: _Perms) -> list[Figure]:
    w = card.workshop.pk
    figures = []
    if can.roster:
        figures.append(Figure(
            "Pre-work finished", f"{card.prework_finished} of {card.named}", key="prework",
            url=_list("registrations_rosterseat", order__workshop__id__exact=w, named="yes", prework="finished"),
            note=f"{card.prework_unfinished} not finished",
            note_url=_list("registrations_rosterseat", order__workshop__id__exact=w, named="yes", prework="unfinished"),
        ))
    if can.needs:
        figures.append(Figure(
            "Access needs to arrange", str(card.access_needs), key="access_needs", attention=card.access_needs > 0,
            url=_list("registrations_rosterseat", order__workshop__id__exact=w, access="yes"),
        ))
    if can.roster:
        figures.append(Figure(
            "Seats not named yet", str(card.unnamed), key="unnamed",
            url=_list("registrations_rosterseat", order__workshop__id__exact=w, named="no"),
        ))
    if can.alerts:
        figures.append(Figure(
            "Waiting for a seat", str(card.waiting_for_seat), key="waiting",
            url=_list("registrations_seatalert", workshop__id__exact=w, notified_at__isempty="1"),
            note="asked to be told when seats open up",
        ))
    return figures


def _card(card: WorkshopOperations, can: _Perms) -> dict:
    zone = card.workshop.tz
    return {
        "ops": card,
        "zone": zone_label(zone, card.sessions[0].starts_at if card.sessions else None),
        "figures": [*_seat_figures(card, can), *_money_figures(card, can), *_people_figures(card, can)],
        "roster_url": _list("registrations_rosterseat", order__workshop__id__exact=card.workshop.pk) if can.roster else "",
        "orders_url": _list("registrations_order", workshop__id__exact=card.workshop.pk) if can.money else "",
        "edit_url": reverse("admin:workshops_workshop_change", args=[card.workshop.pk]) if can.workshops else "",
        "finance_url": _finance_csv(workshop=card.workshop.pk) if can.payments else "",
    }


def _finance_csv(**params) -> str:
    return f"{reverse('admin:registrations_payment_finance')}?{urlencode({'download': 1, **params})}"


def _course_cards(can: _Perms) -> list[dict]:
    if not can.waitlist:
        return []
    cards = []
    for cohort in cohorts_with_waitlist_counts():
        figures = [
            Figure(label, str(getattr(cohort, status)), key=f"course_{status}",
                   url=_list("cohorts_waitlistentry", cohort__id__exact=cohort.pk, status__exact=status))
            for label, status in (("Waiting", "waiting"), ("Invited", "invited"), ("Enrolled", "enrolled"))
        ]
        cards.append({"cohort": cohort, "figures": figures})
    return cards


def home_context(request, *, past: bool) -> dict:
    can = _Perms(request.user)
    cards = [_card(card, can) for card in operations_overview(past=past)]
    return {
        "cards": cards,
        "today": [(c, s) for c in cards for s in c["ops"].sessions_today],
        "past": past,
        "past_count": 0 if past else past_workshop_count(),
        "course_cards": [] if past else _course_cards(can),
        "can_money": can.money,
        "finance_url": reverse("admin:registrations_payment_finance") if can.payments else "",
        "orders_search_url": reverse("admin:registrations_order_changelist") if can.money else "",
        "roster_search_url": reverse("admin:registrations_rosterseat_changelist") if can.roster else "",
    }
