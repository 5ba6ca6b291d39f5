"""Paying for the course: the unlisted registration offering, and an invited entry's order through the one checkout."""

import zoneinfo
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from registrations.models import Order
from registrations.selectors.order_pages import order_for_token
from registrations.services.checkout import place_order, start_checkout
from workshops.models import PriceTier, Workshop
from workshops.selectors import PriceQuote, quote_for

from ..models import Cohort, WaitlistEntry
from .waitlist import Status, WaitlistError, _set_status

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
