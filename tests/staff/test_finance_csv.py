"""The finance CSV: one row per payment and per refund, reachable from the admin home, and agreeing to the cent
with the home page's net revenue, the orders list and its CSV, whatever mix of payments and refunds there is."""

import csv
import io
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from registrations.models import Order, Payment, Refund, RefundPart
from tests.factories import OrderFactory, WorkshopFactory, record_refund
from tests.staff.helpers import dollars, figure, rows
from workshops.models import DEFAULT_TIME_ZONE

pytestmark = pytest.mark.django_db

HOME = "/admin/"
FINANCE = "/admin/registrations/payment/finance/"


def table(response) -> list[dict]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def amount(text: str) -> int:
    """A signed CSV amount ("-0.01") in cents."""
    return -dollars(text[1:]) if text.startswith("-") else dollars(text)


def finance_link(html: str, workshop) -> str:
    card = html[html.index(f'data-workshop="{workshop.slug}"'):]
    card = card[: card.index("</section>")]
    start = card.index('">Finance CSV</a>')
    return card[card.rindex('href="', 0, start) + 6: start].replace("&amp;", "&")


def test_the_home_page_links_each_workshop_to_its_finance_csv(staff_client, workshop):
    order = OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, buyer_name="Maya Johnson")
    record_refund(order, 10000, seat_count=1)
    OrderFactory(workshop=WorkshopFactory(title="Another year"), seat_count=1)  # not this workshop's money
    exported = table(staff_client.get(finance_link(staff_client.get(HOME).content.decode(), workshop)))
    assert [(r["Type"], r["Amount"], r["Order"], r["Counts toward revenue"]) for r in exported] == [
        ("Payment", "500.00", order.reference, "yes"),
        ("Refund", "-100.00", order.reference, "yes"),
    ]


def test_each_row_carries_the_stripe_ids_a_payout_lists(staff_client, workshop):
    order = OrderFactory(workshop=workshop, stripe_payment_intent_id="pi_123")
    refund = record_refund(order, 12000)
    RefundPart.objects.filter(refund=refund).update(stripe_refund_id="re_456")
    payment, back = table(staff_client.get(FINANCE, {"download": 1, "workshop": workshop.pk}))
    assert (payment["Stripe PaymentIntent"], payment["Currency"], payment["Source"]) == ("pi_123", "USD", "Stripe Checkout")
    assert (back["Stripe PaymentIntent"], back["Stripe refund"]) == ("pi_123", "re_456")
    assert payment["When (UTC)"].endswith("+00:00")


def test_seats_added_later_are_listed_under_the_order_they_joined(staff_client, workshop):
    order = OrderFactory(workshop=workshop, seat_count=3)
    addition = OrderFactory(workshop=workshop, seat_count=2, kind=Order.Kind.ADDITION, parent=order,
                            status=Order.Status.MERGED, total_cents=14000)
    Payment.objects.create(order=addition, amount_cents=14000, currency="usd", source=Payment.Source.CHECKOUT,
                           received_at=timezone.now(), stripe_payment_intent_id="pi_added")
    exported = table(staff_client.get(FINANCE, {"download": 1, "workshop": workshop.pk}))
    assert [(r["Order"], r["Paid for"], r["Amount"]) for r in exported] == [
        (order.reference, order.reference, "360.00"), (order.reference, addition.reference, "140.00"),
    ]


def test_payments_not_accepted_are_listed_but_not_counted(staff_client, workshop):
    order = OrderFactory(workshop=workshop)
    duplicate = Payment.objects.create(order=order, amount_cents=12000, currency="usd", source=Payment.Source.CHECKOUT,
                                       status=Payment.Status.REFUSED, received_at=timezone.now(), note="Duplicate payment")
    refund = Refund.objects.create(order=order, kind=Refund.Kind.RETURNED, seat_count=0, amount_cents=12000, reason="Duplicate")
    RefundPart.objects.create(refund=refund, payment=duplicate, amount_cents=12000)
    exported = table(staff_client.get(FINANCE, {"download": 1, "workshop": workshop.pk}))
    assert [(r["Amount"], r["Counts toward revenue"]) for r in exported] == [
        ("120.00", "yes"), ("120.00", "no"), ("-120.00", "no"),
    ]


def test_days_chosen_select_payments_and_refunds_by_their_own_dates(staff_client, workshop):
    zone = zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
    january = datetime(2027, 1, 31, 23, 30, tzinfo=zone)  # late evening Pacific: already February in UTC
    order = OrderFactory(workshop=workshop, paid_at=january)
    refund = record_refund(order, 12000)
    made = datetime(2027, 3, 2, 9, 0, tzinfo=zone)
    Refund.objects.filter(pk=refund.pk).update(created_at=made, made_at=made)
    january_rows = table(staff_client.get(FINANCE, {"download": 1, "since": "2027-01-01", "until": "2027-01-31"}))
    march_rows = table(staff_client.get(FINANCE, {"download": 1, "since": "2027-03-01", "until": "2027-03-31"}))
    assert [r["Type"] for r in january_rows] == ["Payment"]
    assert [r["Type"] for r in march_rows] == ["Refund"]


def test_a_last_day_before_the_first_is_explained_next_to_the_field_and_kept(staff_client):
    response = staff_client.get(FINANCE, {"download": 1, "since": "2027-03-01", "until": "2027-02-01"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert 'id="id_until_error"' in html and "The last day must be on or after the first day." in html
    assert 'value="2027-03-01"' in html and 'value="2027-02-01"' in html


def test_a_day_that_is_not_a_date_is_explained_not_a_500(staff_client):
    response = staff_client.get(FINANCE, {"download": 1, "since": "next tuesday", "workshop": "abc"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(staff_client, workshop):
    OrderFactory(workshop=workshop, buyer_name="=HYPERLINK(\"http://evil\")")
    [row] = table(staff_client.get(FINANCE, {"download": 1, "workshop": workshop.pk}))
    assert row["Purchaser"].startswith("'=")


def test_the_export_takes_the_same_queries_however_many_payments(staff_client, workshop):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            table(staff_client.get(FINANCE, {"download": 1}))
        return len(ctx)

    record_refund(OrderFactory(workshop=workshop), 1000)
    before = count()
    for _ in range(8):
        record_refund(OrderFactory(workshop=workshop, parent=None), 500)
    assert count() == before


def test_the_payments_list_exports_the_selected_payments_and_their_refunds(staff_client, workshop):
    kept = OrderFactory(workshop=workshop)
    record_refund(kept, 2000)
    OrderFactory(workshop=workshop)
    payment = kept.payments.get()
    response = staff_client.post("/admin/registrations/payment/", {"action": "export_finance_csv",
                                                                   "_selected_action": [payment.pk]})
    assert [(r["Type"], r["Order"]) for r in table(response)] == [("Payment", kept.reference), ("Refund", kept.reference)]


def test_staff_who_may_not_see_payments_cannot_export_them(role_client, workshop):
    OrderFactory(workshop=workshop)
    assert role_client("Coordinator").get(FINANCE, {"download": 1}).status_code == 403
    assert "Finance CSV" not in role_client("Coordinator", "coord2").get(HOME).content.decode()
    assert len(table(role_client("Finance").get(FINANCE, {"download": 1}))) == 1


class FinanceCsvReconciles(HypothesisTestCase):
    """Any mix of paid orders, seats added later, staff and dashboard refunds, refused duplicates and payments held
    for review: the counted rows of the finance CSV add up to the home's net revenue, to the orders list behind
    it and to that list's CSV, to the cent; and every payment and refund part has exactly one row."""

    spec = st.fixed_dictionaries({
        "seats": st.integers(min_value=1, max_value=6),
        "unit": st.sampled_from([10000, 12000, 9950]),
        "refunds": st.lists(st.integers(min_value=1, max_value=9999), max_size=2),
        "addition": st.one_of(st.none(), st.integers(min_value=1, max_value=30000)),
        "duplicate": st.sampled_from(["none", "refused", "refused and returned", "review"]),
    })

    @hypothesis_settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(orders=st.lists(spec, min_size=1, max_size=4))
    def test_counted_rows_equal_every_other_figure(self, orders):
        workshop = WorkshopFactory(capacity=200)
        for spec in orders:
            self._order(workshop, spec)
        user = get_user_model().objects.create_user("fin", "f@example.org", "pw", is_staff=True, is_superuser=True)
        self.client.force_login(user)
        html = self.client.get(HOME).content.decode()
        net = figure(html, workshop, "net")
        exported = table(self.client.get(finance_link(html, workshop)))
        counted = sum(amount(r["Amount"]) for r in exported if r["Counts toward revenue"] == "yes")
        assert counted == dollars(net["value"])
        assert sum(dollars(r["net"]) for r in rows(self.client.get(net["url"]))) == counted
        orders_csv = table(self.client.post(net["url"], {"action": "export_csv", "select_across": "1",
                                                         "_selected_action": [Order.objects.first().pk]}))
        assert sum(amount(r["Net (USD)"]) for r in orders_csv) == counted
        assert len(exported) == Payment.objects.count() + RefundPart.objects.count()

    def _order(self, workshop, spec):
        order = OrderFactory(workshop=workshop, seat_count=spec["seats"], unit_price_cents=spec["unit"])
        if spec["addition"]:
            addition = OrderFactory(workshop=workshop, kind=Order.Kind.ADDITION, parent=order, status=Order.Status.MERGED,
                                    seat_count=1, total_cents=spec["addition"], payment=False)
            Payment.objects.create(order=addition, amount_cents=spec["addition"], currency="usd",
                                   source=Payment.Source.CHECKOUT, received_at=timezone.now())
        for cents in spec["refunds"]:
            payment = order.payments.order_by("pk").first()
            left = payment.amount_cents - sum(p.amount_cents for p in payment.refund_parts.all())
            if cents <= left:
                record_refund(order, cents, kind=Refund.Kind.STRIPE)
        if spec["duplicate"] != "none":
            status = Payment.Status.REVIEW if spec["duplicate"] == "review" else Payment.Status.REFUSED
            extra = Payment.objects.create(order=order, amount_cents=order.total_cents, currency="usd", status=status,
                                           source=Payment.Source.CHECKOUT, received_at=timezone.now() + timedelta(minutes=1))
            if spec["duplicate"] == "refused and returned":
                back = Refund.objects.create(order=order, kind=Refund.Kind.RETURNED, seat_count=0,
                                             amount_cents=extra.amount_cents)
                RefundPart.objects.create(refund=back, payment=extra, amount_cents=extra.amount_cents)


def test_payments_needing_review_are_counted_on_the_home_page_and_open_their_orders(staff_client, workshop):
    flagged = OrderFactory(workshop=workshop, status=Order.Status.PENDING, payment=False, payment_needs_review=True)
    OrderFactory(workshop=workshop)
    review = figure(staff_client.get(HOME).content.decode(), workshop, "review")
    assert review["value"] == "1"
    assert [r["order"].split(" ")[0] for r in rows(staff_client.get(review["url"]))] == [flagged.reference]
