import zoneinfo
from datetime import datetime, timedelta

import factory
from django.utils import timezone

from registrations.models import Order, Payment, Refund, RefundPart, Seat
from workshops.models import PreworkModule, PriceTier, Session, Workshop

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")


def pacific(year, month, day, hour=16, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=PACIFIC)


class WorkshopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workshop
        skip_postgeneration_save = True

    title = "Using Racial Affinity Groups in Schools"
    slug = factory.Sequence(lambda n: f"affinity-groups-{n}")
    summary = "Experience racial affinity work first-hand."
    description = "First paragraph.\n\nSecond paragraph."
    outcomes = "Understand racial identity development\nTake part in affinity groups"
    audiences = "School and district leaders\nClassroom teachers"
    capacity = 40
    is_published = True

    @factory.post_generation
    def with_schedule(obj, create, extracted, **kwargs):
        """Two 2-hour sessions 60 and 74 days ahead, two pre-work hours, $120 / $100 for 5+."""
        if not create or extracted is False:
            return
        start = timezone.localtime(timezone.now() + timedelta(days=60), PACIFIC).replace(
            hour=16, minute=0, second=0, microsecond=0
        )
        for number, offset in ((1, 0), (2, 14)):
            s = start + timedelta(days=offset)
            Session.objects.create(
                workshop=obj,
                title=f"Live session {number}",
                starts_at=s,
                ends_at=s + timedelta(hours=2),
                meeting_url=f"https://zoom.example/j/{number}",
            )
        PreworkModule.objects.create(workshop=obj, title="Framework reading", minutes=60, position=1)
        PreworkModule.objects.create(workshop=obj, title="Case studies", minutes=60, position=2)
        PriceTier.objects.create(workshop=obj, min_seats=1, unit_price_cents=12000)
        PriceTier.objects.create(workshop=obj, min_seats=5, unit_price_cents=10000)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True

    workshop = factory.SubFactory(WorkshopFactory)
    buyer_name = factory.Faker("name")
    buyer_email = factory.Sequence(lambda n: f"buyer{n}@school.example")
    organisation = "Lincoln Unified School District"
    role = Order.Role.SCHOOL_LEADER
    seat_count = 1
    unit_price_cents = 12000
    total_cents = factory.LazyAttribute(lambda o: o.unit_price_cents * o.seat_count)
    tier_min_seats = 1
    status = Order.Status.PAID
    paid_at = factory.LazyFunction(timezone.now)
    hold_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=31))
    stripe_payment_intent_id = factory.Sequence(lambda n: f"pi_factory_{n}")

    @factory.post_generation
    def payment(obj, create, extracted, **kwargs):
        """A paid order has its payment in the ledger (`payment=False` for one that has not)."""
        if not create or extracted is False or obj.status not in (Order.Status.PAID, Order.Status.REFUNDED) or not obj.total_cents:
            return
        Payment.objects.create(
            order=obj,
            amount_cents=obj.total_cents,
            currency="usd",
            source=Payment.Source.LOCAL if obj.is_test_payment else Payment.Source.CHECKOUT,
            stripe_payment_intent_id=obj.stripe_payment_intent_id,
            received_at=obj.paid_at or timezone.now(),
        )

    @factory.post_generation
    def refunded(obj, create, extracted, **kwargs):
        """`refunded=10000`: that much was refunded from the order's payment (recorded in the ledger)."""
        if create and extracted:
            record_refund(obj, extracted)

    @factory.post_generation
    def seats(obj, create, extracted, **kwargs):
        if not create:
            return
        names = extracted or []
        for position in range(1, obj.seat_count + 1):
            name = names[position - 1] if position <= len(names) else ""
            Seat.objects.create(
                order=obj,
                position=position,
                attendee_name=name,
                attendee_email=f"{name.split()[0].lower()}@school.example" if name else "",
            )


def complete_seat(seat, *, prework: bool = True, sessions: int | None = None) -> None:
    """Mark a seat's pre-work done and its attendance recorded (all sessions unless `sessions` says how many)."""
    from registrations.models import Attendance, PreworkCompletion

    workshop = seat.order.workshop
    if prework:
        for module in workshop.prework_modules.all():
            PreworkCompletion.objects.get_or_create(seat=seat, module=module)
    attended = list(workshop.sessions.order_by("starts_at"))
    for session in attended if sessions is None else attended[:sessions]:
        Attendance.objects.get_or_create(seat=seat, session=session)


def record_refund(order, amount_cents: int, *, kind: str = "seats", seat_count: int = 0) -> Refund:
    """A refund already made from the order's (first) payment, as the ledger records one."""
    payment = order.payments.order_by("pk").first()
    refund = Refund.objects.create(order=order, kind=kind, seat_count=seat_count, amount_cents=amount_cents, reason="test")
    RefundPart.objects.create(refund=refund, payment=payment, amount_cents=amount_cents)
    return refund
