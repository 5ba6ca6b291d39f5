"""A hostile buyer against partial refunds priced again at the order's saved tiers and code terms (ninth session):
for any team with any code (percent, an amount off each seat, an amount off the order, with or without max_seats),
grown once or not, with staff editing the tiers before the refunds, and any sequence of seat refunds, the seats kept
have cost at least what the code's terms make that many seats cost bought as one order (worked out here), and no more
is refunded than was paid. And an order placed from a quote is priced again at the quote's price, not at the tiers
that stood when it was placed."""

import itertools

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registrations.models import Order, Quote, Seat, Voucher
from registrations.selectors.ledger import order_money
from tests.factories import WorkshopFactory
from tests.registrations.helpers import INVOICE_BILLING, registration_data

pytestmark = pytest.mark.django_db

BUYERS = itertools.count()
CODES = itertools.count()

# (kind, percent_off, amount_off_cents, applies_to, max_seats)
TERMS = st.sampled_from([
    ("percent", 10, None, "order", None), ("percent", 50, None, "order", 2), ("percent", 100, None, "order", 1),
    ("percent", 100, None, "order", None), ("fixed", None, 2000, "seat", None), ("fixed", None, 2000, "seat", 3),
    ("fixed", None, 12000, "seat", 2), ("fixed", None, 5000, "order", None), ("fixed", None, 30000, "order", None),
    ("fixed", None, 10000, "order", 5), ("fixed", None, 30000, "order", 2),
])


def tier_price(seats: int) -> int:
    """The workshop page's rule: $120 per participant, $100 each for teams of 5 or more."""
    return seats * (10000 if seats >= 5 else 12000)


def code_price(seats: int, terms: tuple, covered_at_purchase: int) -> int:
    """`seats` bought as one order with the code, the code covering as many of them as it covered at purchase (the
    README's "Codes count seats"): percent off each covered seat, an amount off each, or an amount off the order
    (each covered seat its share when the code has max_seats), never more than the covered seats cost."""
    if seats <= 0:
        return 0
    kind, percent, amount, applies_to, max_seats = terms
    subtotal = tier_price(seats)
    covered = min(covered_at_purchase, seats)
    covered_subtotal = subtotal * covered // seats
    if kind == "percent":
        off = (covered_subtotal * percent + 50) // 100
    elif applies_to == "seat":
        off = amount * covered
    elif max_seats:
        off = amount * min(covered, max_seats) // max_seats
    else:
        off = amount if covered else 0
    return subtotal - min(off, covered_subtotal)


def staff_client(django_user_model) -> Client:
    user = django_user_model.objects.filter(username="finance").first() or django_user_model.objects.create_user(
        "finance", "finance@example.org", "pw", is_staff=True, is_superuser=True
    )
    staff = Client()
    staff.force_login(user)
    return staff


def pay(order: Order, stripe_double, post_webhook) -> None:
    if order.status == Order.Status.PENDING and order.stripe_checkout_session_id:
        post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))


def team_with_code(stripe_double, post_webhook, seat_count: int, grow_by: int, terms: tuple) -> tuple[Order, str]:
    client, workshop = Client(), WorkshopFactory(capacity=20)
    kind, percent, amount, applies_to, max_seats = terms
    code = f"HOSTILE{next(CODES)}"
    Voucher.objects.create(code=code, kind=kind, percent_off=percent, amount_off_cents=amount, applies_to=applies_to,
                           max_seats=max_seats)
    email = f"lead{next(BUYERS)}@school.example"
    client.post(f"/workshops/{workshop.slug}/register/",
                registration_data(seat_count=seat_count, buyer_email=email, voucher_code=code))
    order = Order.objects.get(buyer_email=email, kind=Order.Kind.PURCHASE)
    pay(order, stripe_double, post_webhook)
    if order.total_cents == 0 and order.status == Order.Status.PENDING:
        client.post(order.get_absolute_url())  # a free order is confirmed by the first press
    if grow_by:
        client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": str(grow_by)})
        addition = Order.objects.filter(parent=order).first()
        if addition is not None:  # refused when the grown team would cost less than it paid
            pay(addition, stripe_double, post_webhook)
    order.refresh_from_db()
    return order, workshop


def refund_seats(staff: Client, seats: list[Seat]) -> None:
    staff.post("/admin/registrations/seat/",
               {"action": "refund_selected_seats", "_selected_action": [s.pk for s in seats], "post": "yes"})


@given(
    seat_count=st.integers(1, 7),
    grow_by=st.sampled_from([0, 0, 1, 2, 4]),
    terms=TERMS,
    tiers_cut=st.booleans(),
    refunds=st.lists(st.integers(1, 8), min_size=1, max_size=3),
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_with_any_code_the_seats_kept_cost_at_least_the_codes_price_and_no_refund_exceeds_what_was_paid(
    stripe_double, post_webhook, django_user_model, seat_count, grow_by, terms, tiers_cut, refunds
):
    staff = staff_client(django_user_model)
    order, workshop = team_with_code(stripe_double, post_webhook, seat_count, grow_by, terms)
    if order.status != Order.Status.PAID:
        return  # a charge below Stripe's minimum is refused at the form
    covered = order.voucher_seat_count
    assert covered == min(terms[4] or seat_count, seat_count)
    if tiers_cut:  # staff cut the prices after the purchase: the order's refunds do not change
        workshop.price_tiers.filter(min_seats=1).update(unit_price_cents=6000)
        workshop.price_tiers.filter(min_seats=5).update(unit_price_cents=5000)
    paid = order_money(order=order).paid_cents
    for count in refunds:
        active = list(order.seats.filter(status=Seat.Status.ACTIVE).order_by("position"))
        if not active:
            break
        before = order_money(order=order).net_cents
        refund_seats(staff, active[-min(count, len(active)):])
        order.refresh_from_db()
        kept = order.seats.filter(status=Seat.Status.ACTIVE).count()
        money = order_money(order=order)
        floor = code_price(kept, terms, covered)
        case = (seat_count, grow_by, terms, tiers_cut, refunds, kept, before, money.net_cents, floor)
        assert money.net_cents >= min(before, floor), case
        assert money.net_cents == min(before, floor), case
        assert 0 <= money.refunded_cents <= paid, case


def quoted_team_of_six_after_a_price_rise(stripe_double, post_webhook, team_cents: int) -> Order:
    """A district downloads a quote for 6 seats at $100; the team price then rises; it orders from the quote and pays
    $600 (a price rise does not touch a quote already given)."""
    client, workshop = Client(), WorkshopFactory()
    data = registration_data(seat_count=6, organisation="Lincoln Unified")
    client.post(f"/workshops/{workshop.slug}/register/", {**data, "download_quote": "1"})
    quote = Quote.objects.get(workshop=workshop)
    workshop.price_tiers.filter(min_seats=5).update(unit_price_cents=team_cents)
    client.post(f"/workshops/{workshop.slug}/register/", {**data, "quote_reference": quote.reference})
    order = Order.objects.get(workshop=workshop)
    pay(order, stripe_double, post_webhook)
    order.refresh_from_db()
    assert (order.status, order.total_cents) == (Order.Status.PAID, 60000)
    return order


def test_one_seat_of_a_quoted_team_of_six_gives_back_the_quotes_price(stripe_double, post_webhook, django_user_model):
    order = quoted_team_of_six_after_a_price_rise(stripe_double, post_webhook, 11000)
    refund_seats(staff_client(django_user_model), [order.seats.order_by("position").last()])
    # README: "A 6-seat team refunding one seat still gets $100"; the 5 kept cost $100 each at the quote's price.
    assert order_money(order=order).refunded_cents == 10000


def test_a_seat_of_a_quoted_team_is_not_cancelled_for_nothing_after_a_price_rise(
    stripe_double, post_webhook, django_user_model
):
    order = quoted_team_of_six_after_a_price_rise(stripe_double, post_webhook, 13000)
    refund_seats(staff_client(django_user_model), [order.seats.order_by("position").last()])
    assert order_money(order=order).refunded_cents == 10000


def test_a_code_raised_after_purchase_does_not_make_seats_added_cheaper_than_the_orders_terms(
    client, workshop, stripe_double, post_webhook
):
    Voucher.objects.create(code="HALF", kind="percent", percent_off=50)
    client.post(f"/workshops/{workshop.slug}/register/", registration_data(seat_count=1, voucher_code="HALF"))
    order = Order.objects.get()
    pay(order, stripe_double, post_webhook)
    Voucher.objects.filter(code="HALF").update(percent_off=100)  # staff edit the code after the purchase
    client.post(f"/orders/{order.token}/add-seats/", {"grow-extra_seats": "4"})
    pay(Order.objects.get(parent=order), stripe_double, post_webhook)
    order.refresh_from_db()
    assert order.seat_count == 5
    # 5 seats at $100 with the order's code (50% off the one seat it covers): $450.
    assert order_money(order=order).net_cents >= code_price(5, ("percent", 50, None, "order", None), 1) == 45000


# 260 characters, valid to Django's EmailValidator (labels of at most 63) and within forms.EmailField's 320, over the
# 254 the models' EmailField columns hold.
LONG_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com"


@pytest.mark.postgres
@pytest.mark.parametrize("sent", ["buyer", "attendee", "billing", "quote"])
def test_an_email_too_long_to_store_is_a_message_beside_the_field_not_a_server_error(
    client, workshop, stripe_double, sent
):
    data = {
        "buyer": registration_data(buyer_email=LONG_EMAIL),
        "attendee": registration_data(seat_count=2, attendees=[("Ana Ruiz", LONG_EMAIL)]),
        "billing": registration_data(**{**INVOICE_BILLING, "billing_email": LONG_EMAIL}),
        "quote": {**registration_data(buyer_email=LONG_EMAIL), "download_quote": "1"},
    }[sent]
    client.raise_request_exception = False
    response = client.post(f"/workshops/{workshop.slug}/register/", data)
    assert response.status_code == 400
    assert not Order.objects.exists() and not Quote.objects.exists()


ODD = "O'Neil \\ %s %(x)s $1 $$ '; DROP TABLE x; -- \u202eé e\u0301 😀 \ufeff\t"


@pytest.mark.postgres
def test_text_that_looks_like_sql_or_placeholders_is_stored_as_sent(client, workshop, stripe_double):
    """Checkout start's hand-built statement renders every value as a literal: quotes, backslashes, %s, dollar
    quotes, bidi marks and emoji in the buyer's and attendees' fields come back exactly, at full length (names as one
    line, as the form keeps them)."""
    name, note = (ODD * 5)[:200], (ODD * 20)[:500]
    data = registration_data(seat_count=3, buyer_name=name, organisation=ODD, access_note=note,
                             attendees=[(name, "o'neil@school.example")])
    client.post(f"/workshops/{workshop.slug}/register/", data)
    order = Order.objects.get()
    # Names and the organisation are kept as one line (their tabs become spaces: one_line), all else as sent.
    one = " ".join(name.split())
    assert (order.buyer_name, order.organisation, order.seat_count) == (one, " ".join(ODD.split()), 3)
    seats = list(order.seats.order_by("position"))
    assert [s.attendee_name for s in seats] == [one, one, ""]
    assert note.strip() in [s.access_note for s in seats]
