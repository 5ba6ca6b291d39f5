from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from registrations.models import Order, Voucher
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import register_at_once, registration_data

pytestmark = pytest.mark.django_db(transaction=True)


def register(client, workshop, **kwargs):
    return client.post(f"/workshops/{workshop.slug}/register/", registration_data(**kwargs))


def voucher(**kwargs):
    defaults = {"code": "EQUITY50", "kind": "percent", "percent_off": 50}
    return Voucher.objects.create(**{**defaults, **kwargs})


def test_percent_code_discounts_the_team_price(client, workshop, stripe_double):
    voucher()
    register(client, workshop, seat_count=5, voucher_code="equity50")
    order = Order.objects.get()
    assert (order.subtotal_cents, order.discount_cents, order.total_cents) == (50000, 25000, 25000)
    session = stripe_double.sessions[order.stripe_checkout_session_id]
    assert session["amount_total"] == 25000
    line = session["line_items_params"][0]
    assert (int(line["quantity"]), int(line["price_data"]["unit_amount"])) == (5, 10000)


def test_fixed_amount_per_seat(client, workshop, stripe_double):
    voucher(code="SEAT20", kind="fixed", percent_off=None, amount_off_cents=2000, applies_to="seat")
    register(client, workshop, seat_count=5, voucher_code="SEAT20")
    assert Order.objects.get().total_cents == 40000


def test_fixed_amount_per_order(client, workshop, stripe_double):
    voucher(code="ORDER50", kind="fixed", percent_off=None, amount_off_cents=5000, applies_to="order")
    register(client, workshop, seat_count=2, voucher_code="ORDER50")
    assert Order.objects.get().total_cents == 19000


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda w: None, "This code is not valid"),
        (lambda w: voucher(code="OLD", valid_until=timezone.now() - timedelta(days=1)), "This code expired on"),
        (lambda w: voucher(code="LATER", valid_from=timezone.now() + timedelta(days=3)), "This code can be used from"),
        (lambda w: voucher(code="OFF", is_active=False), "This code is not valid"),
        (lambda w: voucher(code="OTHER", workshop=WorkshopFactory()), "This code is for a different workshop"),
    ],
)
def test_unusable_codes_get_a_message_beside_the_field(client, workshop, stripe_double, make, message):
    made = make(workshop)
    code = made.code if made else "NOPE"
    response = register(client, workshop, voucher_code=code.lower())
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="error_1_id_voucher_code"' in html
    assert f'value="{code.lower()}"' in html and 'value="Maya Johnson"' in html
    assert not Order.objects.exists()


def test_exhausted_code_is_refused(client, workshop, stripe_double):
    code = voucher(code="ONCE", max_seats=1)
    OrderFactory(workshop=workshop, voucher=code, voucher_seat_count=1)
    response = register(client, workshop, voucher_code="ONCE")
    assert "already been used for every seat it covers" in response.content.decode()


def test_lapsed_hold_gives_the_use_back(client, workshop, stripe_double):
    code = voucher(code="ONCE", max_seats=1)
    OrderFactory(workshop=workshop, voucher=code, voucher_seat_count=1, status=Order.Status.PENDING, paid_at=None,
                 hold_expires_at=timezone.now() - timedelta(seconds=1))
    register(client, workshop, voucher_code="ONCE")
    assert Order.objects.filter(status=Order.Status.PENDING, hold_expires_at__gt=timezone.now()).count() == 1


def test_full_scholarship_completes_without_stripe(client, workshop, stripe_double):
    voucher(code="FULLRIDE", percent_off=100)
    response = register(client, workshop, seat_count=2, voucher_code="FULLRIDE")
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.token}/"
    assert order.status == Order.Status.PAID and order.total_cents == 0
    assert stripe_double.requests == []
    assert len([m for m in mail.outbox if "You're registered" in m.subject]) == 1
    page = client.get(response["Location"]).content.decode()
    assert "nothing to pay" in page and "Code FULLRIDE" in page


def test_update_total_previews_the_discount(client, workshop):
    voucher()
    data = registration_data(seat_count=5, voucher_code="EQUITY50")
    data["update"] = "1"
    html = client.post(f"/workshops/{workshop.slug}/register/", data).content.decode()
    assert "Code EQUITY50 (50% off): −$250.00" in html
    assert "$250.00" in html


def test_late_payment_after_the_code_was_used_up_is_refunded(client, post_webhook, stripe_double):
    workshop = WorkshopFactory(capacity=10)
    code = voucher(code="ONCE", max_seats=1)
    register(client, workshop, voucher_code="ONCE")
    late = Order.objects.get()
    session = stripe_double.pay(late.stripe_checkout_session_id)
    Order.objects.filter(pk=late.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    OrderFactory(workshop=workshop, voucher=code, voucher_seat_count=1)  # someone else used its one seat meanwhile
    post_webhook("checkout.session.completed", session)
    late.refresh_from_db()
    assert late.status == Order.Status.REFUNDED
    assert "code ONCE had only 0 seat(s) left" in late.staff_note


@pytest.mark.postgres
def test_twenty_buyers_race_for_three_uses(stripe_double):
    workshop = WorkshopFactory(capacity=100)
    voucher(code="LAST3", max_seats=3)
    answers = register_at_once(
        workshop, [registration_data(buyer_email=f"b{n}@race.example", voucher_code="LAST3") for n in range(20)]
    )
    codes = [a.status_code for a in answers]
    assert sorted(codes) == [302] * 3 + [400] * 17
    assert Order.objects.filter(voucher__code="LAST3").count() == 3


def test_staff_generate_single_use_scholarship_codes(staff_client):
    response = staff_client.post(
        "/admin/registrations/voucher/generate/",
        {"count": 5, "prefix": "schol", "label": "Spring", "kind": "percent", "percent_off": 100, "applies_to": "seat"},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 6
    assert Voucher.objects.filter(code__startswith="SCHOL-", max_seats=1, percent_off=100).count() == 5
    codes = {line.split(",")[0] for line in rows[1:]}
    assert codes == set(Voucher.objects.values_list("code", flat=True))


def test_generate_form_errors_stay_on_the_page(staff_client):
    response = staff_client.post("/admin/registrations/voucher/generate/", {"count": 0, "kind": "fixed", "label": "x"})
    assert response.status_code == 400
    assert not Voucher.objects.exists()


def test_voucher_changelist_shows_seats_used(staff_client, workshop):
    code = voucher(code="COUNTME", max_seats=5)
    OrderFactory(workshop=workshop, voucher=code, seat_count=1, voucher_seat_count=1)
    OrderFactory(workshop=workshop, voucher=code, seat_count=2, voucher_seat_count=2)
    html = staff_client.get("/admin/registrations/voucher/").content.decode()
    assert "COUNTME" in html and '<td class="field-uses">3</td>' in html
