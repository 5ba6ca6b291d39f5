"""Found by walking the admin as Finance and as a Coordinator: money shown in dollars on the ledger's own pages, the
"payment needs review" flag in words, the workshop card's links for Finance, the breakout move form on a phone."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from registrations.models import Payment
from tests.factories import OrderFactory, WorkshopFactory, record_refund
from tests.registrations.affinity_helpers import add_groups

pytestmark = pytest.mark.django_db


def test_refund_page_shows_the_amount_in_dollars(role_client):
    order = OrderFactory(seat_count=2, total_cents=24000)
    refund = record_refund(order, 12000, seat_count=1)
    html = role_client("Finance").get(reverse("admin:registrations_refund_change", args=[refund.pk])).content.decode()
    assert "$120.00" in html
    assert "12000" not in html and "Amount cents" not in html


def test_payment_page_shows_money_in_dollars(role_client):
    order = OrderFactory(total_cents=12000)
    payment = order.payments.get()
    Payment.objects.filter(pk=payment.pk).update(stripe_refunded_cents=4500, stripe_refund_failed_cents=2550)
    html = role_client("Finance").get(reverse("admin:registrations_payment_change", args=[payment.pk])).content.decode()
    assert "$120.00" in html and "$45.00" in html and "$25.50" in html
    assert "Amount cents" not in html and "refunded cents" not in html.lower()
    assert ">12000<" not in html and ">4500<" not in html


def test_flagged_order_says_yes_in_words_not_a_green_tick(role_client):
    flagged = OrderFactory(payment_needs_review=True, payment_review_note="Stripe could not complete refund re_1")
    clean = OrderFactory()
    client = role_client("Finance")
    html = client.get(reverse("admin:registrations_order_change", args=[flagged.pk])).content.decode()
    field = html[html.index("field-review_flag"):][:1200]
    assert "Yes" in field and "Mark payment review done" in field
    assert "icon-yes" not in field
    other = client.get(reverse("admin:registrations_order_change", args=[clean.pk])).content.decode()
    field = other[other.index("field-review_flag"):][:600]
    assert ">No<" in field and "icon-no" not in field


def test_finance_workshop_card_links_do_not_start_with_a_separator(role_client):
    WorkshopFactory()
    html = role_client("Finance").get(reverse("admin:index")).content.decode()
    links = html[html.index('<p class="ops-links">'):]
    links = links[: links.index("</p>")]
    assert "Orders" in links and "Roster" not in links
    assert links.startswith('<p class="ops-links"><a ')


def test_breakout_move_form_may_shrink_to_a_phone(role_client):
    workshop = WorkshopFactory()
    add_groups(workshop)
    session = workshop.sessions.order_by("starts_at").first()
    html = role_client("Coordinator").get(reverse("admin:registrations_breakoutplan_change", args=[session.pk])).content.decode()
    assert "css/breakout.css" in html and 'class="bp-move"' in html
    css = open(finders.find("css/breakout.css")).read()
    assert ".bp-top > * { flex: 1 1 24rem; min-width: 0; }" in css


def test_list_filters_have_titles_that_say_what_they_filter(role_client):
    orders = role_client("Finance").get(reverse("admin:registrations_order_changelist")).content.decode()
    assert "By test payment (no Stripe key)" in orders and "By is test payment" not in orders
    seats = role_client("Coordinator").get(reverse("admin:registrations_seat_changelist")).content.decode()
    assert "By seat status" in seats and "By order status" in seats


def test_a_refund_that_failed_at_stripe_does_not_read_as_made(role_client):
    order = OrderFactory(seat_count=2, total_cents=24000)
    refund = record_refund(order, 12000, seat_count=1)
    refund.parts.update(amount_cents=0)
    type(refund).objects.filter(pk=refund.pk).update(
        amount_cents=0, reason="1 seat(s) refunded (failed at Stripe, the card was expired or cancelled: $120.00 not returned)"
    )
    html = role_client("Finance").get(reverse("admin:registrations_order_change", args=[order.pk])).content.decode()
    assert "Failed at Stripe: nothing reached the buyer" in html


def test_a_coordinator_reads_no_money_words_they_cannot_act_on(role_client):
    client = role_client("Coordinator")
    home = client.get(reverse("admin:index")).content.decode()
    assert "Net revenue" not in home and "Held: seats" in home
    roster = client.get(reverse("admin:registrations_rosterseat_changelist")).content.decode()
    assert "refund seats" not in roster


def test_an_order_whose_refund_failed_says_so_beside_its_money(role_client):
    order = OrderFactory(total_cents=24000, seat_count=2)
    Payment.objects.filter(order=order).update(stripe_refund_failed_cents=12000)
    client = role_client("Finance")
    listing = client.get(reverse("admin:registrations_order_changelist")).content.decode()
    assert "$120.00 failed at Stripe" in listing
    page = client.get(reverse("admin:registrations_order_change", args=[order.pk])).content.decode()
    assert "refunds that failed at Stripe $120.00" in page
