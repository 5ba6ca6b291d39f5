"""The public pages every browser test audits, each with the rows it needs to show something real.

Each entry builds its data on the (already seeded) live-server database and returns the path to open.
Pages that other issues add join this list as they land.
"""

from datetime import timedelta

from django.utils import timezone

from registrations.models import Attendance, Certificate, Order, PreworkCompletion, Seat
from tests.factories import OrderFactory
from workshops.models import Workshop

SLUG = "using-racial-affinity-groups-in-schools"


def demo_workshop() -> Workshop:
    return Workshop.objects.get(slug=SLUG)


def paid_team_order(**kwargs) -> Order:
    defaults = dict(
        workshop=demo_workshop(),
        buyer_name="Denise Okafor",
        buyer_email="dokafor@district.example",
        organisation="Riverside Unified School District",
        seat_count=5,
        unit_price_cents=10000,
        tier_min_seats=5,
        is_test_payment=True,
        seats=["Denise Okafor", "Luis Ortega"],
    )
    defaults.update(kwargs)
    return OrderFactory(**defaults)


def pending_order() -> Order:
    return OrderFactory(
        workshop=demo_workshop(),
        buyer_name="Maya Chen",
        buyer_email="maya@lincoln.example",
        status=Order.Status.PENDING,
        paid_at=None,
        stripe_payment_intent_id="",
        stripe_checkout_session_id="cs_local_e2e",
        hold_expires_at=timezone.now() + timedelta(minutes=30),
        seats=["Maya Chen"],
    )


def invoiced_order() -> Order:
    """A district's order awaiting payment of its (local test) invoice."""
    return OrderFactory(
        workshop=demo_workshop(),
        buyer_name="Denise Okafor",
        organisation="Riverside Unified School District",
        seat_count=5,
        unit_price_cents=10000,
        tier_min_seats=5,
        status=Order.Status.PENDING,
        paid_at=None,
        stripe_payment_intent_id="",
        payment_method=Order.PaymentMethod.INVOICE,
        billing_name="Accounts Payable",
        billing_email="ap@district.example",
        billing_line1="100 Main St",
        billing_city="Riverside",
        billing_state="CA",
        billing_postal_code="92501",
        po_number="PO-2027-0042",
        stripe_invoice_id="in_local_e2e",
        invoice_number="TEST-E2E0001",
        invoice_status="open",
        invoice_due_at=timezone.now() + timedelta(days=14),
        hold_expires_at=timezone.now() + timedelta(days=14),
        seats=["Denise Okafor"],
    )


def sold_out_workshop() -> Workshop:
    workshop = demo_workshop()
    Workshop.objects.filter(pk=workshop.pk).update(capacity=5)
    paid_team_order()
    return workshop


def completed_seat() -> Seat:
    """An attendee who did the pre-work and came to both sessions, with their certificate issued."""
    seat = paid_team_order().seats.get(position=2)
    workshop = seat.order.workshop
    for module in workshop.prework_modules.all():
        PreworkCompletion.objects.create(seat=seat, module=module)
    for session in workshop.sessions.all():
        Attendance.objects.create(seat=seat, session=session)
    Certificate.objects.create(seat=seat, attendee_name=seat.attendee_name, hours=6, issued_at=timezone.now())
    return seat


def waitlist_entry(*, invited: bool = False):
    from cohorts.models import Cohort
    from cohorts.services import EntryDetails, invite_entries, join_waitlist

    entry = join_waitlist(
        cohort=Cohort.objects.get(),
        details=EntryDetails(name="Keisha Brown", email="kbrown@district.example", role="district_leader",
                             organisation="Riverside Unified", kind="team", team_size=4),
    ).entry
    if invited:
        invite_entries(entry_ids=[entry.pk])
        entry.refresh_from_db()
    return entry


def _cohort_path() -> str:
    from cohorts.models import Cohort

    return Cohort.objects.get().get_absolute_url()


PUBLIC_PAGES = {
    "home": lambda: "/",
    "workshop": lambda: f"/workshops/{SLUG}/",
    "register": lambda: f"/workshops/{SLUG}/register/",
    "test-payment": lambda: f"{pending_order().get_absolute_url()}test-payment/",
    "order-pending": lambda: pending_order().get_absolute_url(),
    "order-paid": lambda: paid_team_order().get_absolute_url(),
    "order-invoiced": lambda: invoiced_order().get_absolute_url(),
    "test-invoice": lambda: f"{invoiced_order().get_absolute_url()}test-invoice/",
    "seat": lambda: paid_team_order().seats.get(position=2).get_absolute_url(),
    "sold-out": lambda: (sold_out_workshop(), f"/workshops/{SLUG}/register/")[1],
    "not-found": lambda: "/orders/no-such-order/",
    "seat-completed": lambda: completed_seat().get_absolute_url(),
    "certificate": lambda: completed_seat().certificate.get_absolute_url(),
    "cohort": _cohort_path,
    "waitlist-status": lambda: waitlist_entry().get_absolute_url(),
    "waitlist-invitation": lambda: waitlist_entry(invited=True).get_invitation_url(),
}
