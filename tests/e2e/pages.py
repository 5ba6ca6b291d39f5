"""The public pages every browser test audits, each with the rows it needs to show something real.

Each entry builds its data on the (already seeded) live-server database and returns the path to open.
Pages that other issues add join this list as they land.
"""

from datetime import timedelta

from django.utils import timezone

from registrations.models import Order
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


def sold_out_workshop() -> Workshop:
    workshop = demo_workshop()
    Workshop.objects.filter(pk=workshop.pk).update(capacity=5)
    paid_team_order()
    return workshop


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
    "seat": lambda: paid_team_order().seats.get(position=2).get_absolute_url(),
    "sold-out": lambda: (sold_out_workshop(), f"/workshops/{SLUG}/register/")[1],
    "not-found": lambda: "/orders/no-such-order/",
    "cohort": _cohort_path,
}
