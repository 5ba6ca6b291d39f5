"""The payment ledger: payments checked and recorded once, review and disputes for staff, codes counting seats,
invoice holds within their share, stale additions priced again, and the old data written into the ledger."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from registrations.models import Order, Payment, Refund, RefundPart, Voucher
from registrations.selectors.ledger import order_money
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import refund_whole_orders, registration_data

pytestmark = pytest.mark.django_db(transaction=True)

BILLING = {
    "payment_method": "invoice", "billing_name": "Dana Ruiz", "billing_email": "accounts@lincoln-usd.example",
    "billing_line1": "100 Main Street", "billing_city": "Oakland", "billing_state": "CA", "billing_postal_code": "94612",
}
ORDERS = "/admin/registrations/order/"
# The last migrations before the ledger's (registrations 0016-0019, workshops 0006).
BEFORE_THE_LEDGER = [("registrations", "0015_staff_permissions"), ("workshops", "0005_workshop_facilitators")]


def register(client, workshop, **kwargs):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(**kwargs))


def latest(**filters) -> Order:
    return Order.objects.filter(**filters).latest("created_at")


def staff_emails() -> list:
    return [m for m in mail.outbox if m.to == [django_settings.STAFF_ALERT_EMAIL]]


def payment_link(order, amount=100, currency="usd", n=1) -> dict:
    return {"id": f"cs_live_link_{n}", "object": "checkout.session", "client_reference_id": order.reference,
            "payment_status": "paid", "status": "complete", "amount_total": amount, "currency": currency,
            "payment_intent": f"pi_link_{n}"}


# --- recorded once, checked first ---------------------------------------------------------------------------------


def test_a_paid_session_is_one_payment_however_often_it_is_reported(client, workshop, stripe_double, post_webhook):
    register(client, workshop, seat_count=2)
    order = latest()
    paid = stripe_double.pay(order.stripe_checkout_session_id)
    client.get(f"/orders/{order.token}/success/?session_id={order.stripe_checkout_session_id}")
    post_webhook("checkout.session.completed", paid)
    post_webhook("checkout.session.async_payment_succeeded", paid)
    (payment,) = Payment.objects.all()
    assert (payment.order, payment.amount_cents, payment.currency, payment.status) == (order, 24000, "usd", "accepted")
    assert (payment.stripe_checkout_session_id, payment.stripe_payment_intent_id) == (
        order.stripe_checkout_session_id, paid["payment_intent"]
    )


def test_a_session_of_another_order_cannot_pay_this_one(client, workshop, stripe_double, post_webhook):
    register(client, workshop, buyer_email="one@school.example")
    register(client, workshop, buyer_email="two@school.example")
    one, two = latest(buyer_email="one@school.example"), latest(buyer_email="two@school.example")
    paid = stripe_double.pay(one.stripe_checkout_session_id)
    post_webhook("checkout.session.completed", {**paid, "client_reference_id": two.reference, "metadata": {}})
    two.refresh_from_db()
    assert two.status == Order.Status.PENDING and two.payment_needs_review
    assert "another order" in two.payment_review_note


def test_a_payment_under_review_is_shown_to_staff_and_can_be_marked_done(client, staff_client, workshop, stripe_double, post_webhook):
    register(client, workshop)
    order = latest()
    post_webhook("checkout.session.completed", payment_link(order, amount=1, currency="jpy"))
    page = staff_client.get(f"{ORDERS}{order.pk}/change/").content.decode()
    assert "was not accepted" in page and "cs_live_link_1" in page and "Did not match what we asked for" in page
    listing = staff_client.get(ORDERS).content.decode()
    assert '<strong class="review-flag">Payment needs review</strong>' in listing
    staff_client.post(ORDERS, {"action": "mark_review_done", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert not order.payment_needs_review
    assert len(staff_emails()) == 1 and "cs_live_link_1" in staff_emails()[0].body


def test_a_dispute_flags_the_order_and_emails_staff_once(client, workshop, stripe_double, post_webhook):
    register(client, workshop)
    order = latest()
    paid = stripe_double.pay(order.stripe_checkout_session_id)
    post_webhook("checkout.session.completed", paid)
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_1", "payment_intent": paid["payment_intent"],
               "amount": 12000, "currency": "usd", "reason": "fraudulent", "status": "needs_response"}
    assert post_webhook("charge.dispute.created", dispute).content == b"dispute flagged"
    assert post_webhook("charge.dispute.created", dispute).content == b"dispute flagged"  # sent again as a new event
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.payment_needs_review
    assert "dispute dp_1 for $120.00" in order.payment_review_note and "fraudulent" in order.payment_review_note
    assert len(staff_emails()) == 1


def test_a_dispute_on_an_unknown_payment_is_acknowledged(stripe_double, post_webhook):
    response = post_webhook("charge.dispute.created", {"id": "dp_x", "object": "dispute", "payment_intent": "pi_nope"})
    assert (response.status_code, response.content) == (200, b"unknown payment")


def test_a_real_nul_character_in_an_event_is_refused(client, workshop, stripe_double, post_webhook):
    register(client, workshop)
    order = latest()
    session = {**stripe_double.pay(order.stripe_checkout_session_id), "customer_details": {"name": "Ana \x00 Ruiz"}}
    assert post_webhook("checkout.session.completed", session).status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_a_local_test_payment_is_refunded_locally_without_stripe(client, staff_client, workshop, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    register(client, workshop, seat_count=2)
    order = latest()
    client.post(f"/orders/{order.token}/test-payment/")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and Payment.objects.get().source == Payment.Source.LOCAL
    refund_whole_orders(staff_client, [order])
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert RefundPart.objects.get().stripe_refund_id.startswith("re_local_")


# --- codes count seats ------------------------------------------------------------------------------------------


def test_a_percent_code_discounts_at_most_the_seats_it_has_left(client, workshop, stripe_double):
    Voucher.objects.create(code="THREE", kind="percent", percent_off=50, max_seats=3)
    register(client, workshop, seat_count=2, buyer_email="one@school.example", voucher_code="THREE")
    register(client, workshop, seat_count=2, buyer_email="two@school.example", voucher_code="THREE")
    one, two = latest(buyer_email="one@school.example"), latest(buyer_email="two@school.example")
    assert (one.voucher_seat_count, one.total_cents) == (2, 24000 - 12000)
    assert (two.voucher_seat_count, two.total_cents) == (1, 24000 - 6000)


def test_the_form_says_when_a_code_covers_only_some_seats(client, workshop):
    Voucher.objects.create(code="ONESEAT", kind="percent", percent_off=100, max_seats=1)
    data = registration_data(seat_count=5, voucher_code="ONESEAT")
    data["update"] = "1"
    html = client.post(f"/workshops/{workshop.slug}/register/", data).content.decode()
    assert "Code ONESEAT (100% off, on 1 of your 5 seats: the seats it still covers): −$100.00" in html
    assert "$400.00" in html


def test_a_fixed_code_per_seat_covers_only_its_seats(client, workshop, stripe_double):
    Voucher.objects.create(code="TENOFF", kind="fixed", amount_off_cents=1000, applies_to="seat", max_seats=2)
    register(client, workshop, seat_count=3, voucher_code="TENOFF")
    assert latest().total_cents == 36000 - 2000


def test_a_total_under_fifty_cents_after_a_code_is_refused_beside_the_code(client, workshop, stripe_double):
    Voucher.objects.create(code="ALMOST", kind="fixed", amount_off_cents=11970, applies_to="order")
    response = register(client, workshop, voucher_code="ALMOST")
    assert response.status_code == 400
    html = response.content.decode()
    assert "With code ALMOST the total would be $0.30, less than the smallest card payment we can take ($0.50)." in html
    assert 'id="error_1_id_voucher_code"' in html and 'value="ALMOST"' in html
    assert not Order.objects.exists()


# --- invoices hold only their share -----------------------------------------------------------------------------


def test_the_form_shows_the_invoice_rules(client):
    workshop = WorkshopFactory(capacity=40)
    html = client.get(f"/workshops/{workshop.slug}/register/").content.decode()
    assert "unpaid invoices may hold at most 12 of the 40 seats (30%)" in html
    assert "one unpaid invoice request at a time" in html


def test_one_unpaid_invoice_request_per_billing_address(client, workshop, stripe_double):
    register(client, workshop, seat_count=2, **BILLING)
    same_address = register(client, workshop, seat_count=1, **{**BILLING, "buyer_email": "third@school.example",
                                                             "billing_email": "ap@else.example",
                                                             "billing_line1": "100  main street"})
    assert same_address.status_code == 400
    assert "already an unpaid invoice request for this workshop to this billing address" in same_address.content.decode()
    assert Order.objects.count() == 1
    register(client, workshop, seat_count=1, **{**BILLING, "buyer_email": "fourth@school.example",
                                                "billing_email": "ap@fourth.example", "billing_line1": "4 Fourth Ave"})
    assert Order.objects.count() == 2


def test_a_lapsed_invoice_request_no_longer_counts_against_the_share(client, stripe_double):
    workshop = WorkshopFactory(capacity=10)
    register(client, workshop, seat_count=3, **BILLING)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        register(client, workshop, seat_count=3, **{**BILLING, "buyer_email": "again@school.example"})
        assert Order.objects.filter(status=Order.Status.PENDING, hold_expires_at__gt=timezone.now()).count() == 1


def test_seats_added_by_invoice_count_against_the_invoice_share(client, stripe_double, post_webhook):
    workshop = WorkshopFactory(capacity=10)  # invoices may hold 3
    register(client, workshop, seat_count=2)
    team = latest()
    post_webhook("checkout.session.completed", stripe_double.pay(team.stripe_checkout_session_id))
    data = {f"grow-{k}": v for k, v in BILLING.items()}
    response = client.post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "4", **data})
    assert response.status_code == 400
    assert "Unpaid invoices hold as many of this workshop" in response.content.decode()
    assert not Order.objects.filter(parent=team).exists()


# --- seats added later, priced again when the order changed ---------------------------------------------------------


def test_a_stale_addition_that_now_costs_less_joins_and_the_difference_is_returned(client, workshop, stripe_double, post_webhook):
    register(client, workshop, seat_count=3)
    team = latest()
    post_webhook("checkout.session.completed", stripe_double.pay(team.stripe_checkout_session_id))
    client.post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "1", "grow-payment_method": "card"})
    first = Order.objects.get(parent=team)
    first_paid = stripe_double.pay(first.stripe_checkout_session_id)  # $120 for a fourth seat; the webhook is late
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        client.post(f"/orders/{team.token}/add-seats/", {"grow-extra_seats": "1", "grow-payment_method": "card"})
        second = Order.objects.filter(parent=team).latest("created_at")
        post_webhook("checkout.session.completed", stripe_double.pay(second.stripe_checkout_session_id))
        post_webhook("checkout.session.completed", first_paid)  # now the fifth seat: $500 - $480 = $20
    team.refresh_from_db()
    first.refresh_from_db()
    assert (team.seat_count, team.unit_price_cents, team.total_cents) == (5, 10000, 50000)
    assert (first.status, first.total_cents) == (Order.Status.MERGED, 2000)
    (refund,) = stripe_double.requests_to("POST", "/v1/refunds")
    assert (refund["params"]["payment_intent"], refund["params"]["amount"]) == (first_paid["payment_intent"], "10000")
    money = order_money(order=team)
    assert (money.paid_cents, money.refunded_cents, money.net_cents) == (60000, 10000, 50000)
    assert Refund.objects.get().kind == Refund.Kind.RETURNED
    told = [m.body for m in mail.outbox if m.subject.startswith("Seats added") and "we are refunding" in m.body]
    assert len(told) == 1
    assert "Paid now: $120.00" in told[0] and "these seats now cost $20.00: we are refunding the other $100.00" in told[0]


# --- what staff read ------------------------------------------------------------------------------------------------


def test_the_orders_csv_lists_payments_that_were_not_accepted(client, staff_client, workshop, stripe_double, post_webhook):
    import csv
    import io

    register(client, workshop)
    order = latest()
    post_webhook("checkout.session.completed", payment_link(order, amount=5000))
    response = staff_client.post(ORDERS, {"action": "export_csv", "_selected_action": [order.pk]})
    (row,) = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert (row["Order total (USD)"], row["Paid (USD)"], row["Payments not accepted (USD)"]) == ("120.00", "0.00", "50.00")
    assert row["Payment needs review"] == "yes"


def test_payment_admin_lists_and_searches_the_ledger(staff_client, workshop):
    order = OrderFactory(workshop=workshop, stripe_payment_intent_id="pi_findme")
    html = staff_client.get("/admin/registrations/payment/?q=pi_findme").content.decode()
    assert order.reference in html and "pi_findme" in html
    assert staff_client.get(f"/admin/registrations/payment/{order.payments.get().pk}/change/").status_code == 200


# --- the data migration: orders from before the ledger ----------------------------------------------------------------


@pytest.fixture
def before_the_ledger():
    """The schema as it was before the ledger; migrated forward again afterwards."""
    before = BEFORE_THE_LEDGER
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    yield old
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_backfill_writes_the_ledger_for_orders_paid_before_it(before_the_ledger):
    Order = before_the_ledger.get_model("registrations", "Order")
    Refund = before_the_ledger.get_model("registrations", "Refund")
    RefundPart = before_the_ledger.get_model("registrations", "RefundPart")
    Workshop = before_the_ledger.get_model("workshops", "Workshop")
    Voucher = before_the_ledger.get_model("registrations", "Voucher")
    now = timezone.now()
    workshop = Workshop.objects.create(title="W", slug="w", summary="s", capacity=40)
    code = Voucher.objects.create(code="OLD", kind="percent", percent_off=10, max_uses=1)
    common = {"workshop": workshop, "buyer_name": "B", "organisation": "O", "role": "teacher", "tier_min_seats": 1,
              "hold_expires_at": now, "unit_price_cents": 12000}
    team = Order.objects.create(reference="ESL-TEAM0001", token="t" * 43, buyer_email="a@x.example", seat_count=5,
                                total_cents=50000, status="paid", paid_at=now, stripe_payment_intent_id="pi_team",
                                stripe_checkout_session_id="cs_team", refunded_cents=15000, voucher=code, **common)
    added = Order.objects.create(reference="ESL-ADDS0001", token="u" * 43, buyer_email="a@x.example", seat_count=2,
                                 total_cents=14000, status="merged", paid_at=now, kind="addition", parent=team,
                                 stripe_payment_intent_id="pi_added", **common)
    pending = Order.objects.create(reference="ESL-PEND0001", token="v" * 43, buyer_email="c@x.example", seat_count=1,
                                   total_cents=12000, status="pending", stripe_checkout_session_id="cs_pending", **common)
    tracked = Refund.objects.create(order=team, seat_count=0, amount_cents=5000, reason="tracked")
    RefundPart.objects.create(refund=tracked, payment=team, amount_cents=5000)
    Refund.objects.create(order=team, seat_count=1, amount_cents=10000, reason="before parts")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from registrations.models import Order as NowOrder
    from registrations.models import Payment as NowPayment
    from registrations.models import PaymentRequest, Voucher as NowVoucher

    own, joined = NowPayment.objects.get(stripe_payment_intent_id="pi_team"), NowPayment.objects.get(stripe_payment_intent_id="pi_added")
    assert (own.amount_cents, own.order_id, joined.amount_cents, joined.order_id) == (50000 - 14000, team.pk, 14000, added.pk)
    money = order_money(order=NowOrder.objects.get(pk=team.pk))
    assert (money.paid_cents, money.refunded_cents, money.net_cents) == (50000, 15000, 35000)
    assert own.refund_parts.get().amount_cents == 5000  # a part that named the order names its payment now
    assert joined.refund_parts.get().amount_cents == 10000  # refunds from before parts came out of the newest payment
    assert PaymentRequest.objects.get(provider_id="cs_pending").amount_cents == 12000
    assert not NowPayment.objects.filter(order_id=pending.pk).exists()
    assert NowOrder.objects.get(pk=team.pk).voucher_seat_count == 5
    assert NowVoucher.objects.get(code="OLD").max_seats == 1


def test_the_ledger_migrations_can_be_reversed(client, workshop, stripe_double, post_webhook, staff_client):
    register(client, workshop, seat_count=2)
    order = latest()
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    staff_client.post(
        "/admin/registrations/rosterseat/",
        {"action": "refund_selected_seats", "_selected_action": [order.seats.get(position=1).pk], "post": "yes"},
    )
    before = BEFORE_THE_LEDGER
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = MigrationExecutor(connection).loader.project_state(before).apps
        old_order = old.get_model("registrations", "Order").objects.get(pk=order.pk)
        assert old_order.refunded_cents == 12000
        part = old.get_model("registrations", "RefundPart").objects.get()
        assert (part.payment_id, part.amount_cents) == (order.pk, 12000)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert order_money(order=Order.objects.get(pk=order.pk)).refunded_cents == 12000
