"""The admin home: each upcoming workshop's figures, and each figure opens the list that adds up to it."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from registrations.models import Order, Seat, SeatAlert
from tests.cohorts.factories import CohortFactory, WaitlistEntryFactory
from tests.factories import OrderFactory, WorkshopFactory, complete_seat
from tests.staff.helpers import dollars, figure, has_figure, rows
from workshops.models import Session

pytestmark = pytest.mark.django_db

HOME = "/admin/"


@pytest.fixture
def busy(workshop):
    """A workshop a week into sales: paid, refunded, held, lapsed and invoiced orders, and people waiting."""
    now = timezone.now()
    team = OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5,
                        seats=["Ana Diaz", "Ben Okafor", "Chen Wei"], refunded_seat_count=1, refunded=10000)
    Seat.objects.filter(order=team, position=5).update(status=Seat.Status.REFUNDED)
    Seat.objects.filter(order=team, position=2).update(needs_interpreter=True)
    OrderFactory(workshop=workshop, seat_count=2, kind=Order.Kind.ADDITION, parent=team, status=Order.Status.MERGED,
                 unit_price_cents=10000, tier_min_seats=5, seats=[])  # counted in the team's total already
    Seat.objects.filter(order__kind=Order.Kind.ADDITION).delete()
    single = OrderFactory(workshop=workshop, seats=["Eve Adams"])
    Seat.objects.filter(order=single).update(needs_captions=True, access_note="Large print handouts")
    OrderFactory(workshop=workshop, status=Order.Status.REFUNDED, refunded_seat_count=1, refunded=12000)
    OrderFactory(workshop=workshop, seat_count=2, status=Order.Status.PENDING, paid_at=None,
                 hold_expires_at=now + timedelta(minutes=20))
    OrderFactory(workshop=workshop, seat_count=1, status=Order.Status.PROCESSING, paid_at=None)
    OrderFactory(workshop=workshop, seat_count=4, status=Order.Status.PENDING, paid_at=None,
                 hold_expires_at=now - timedelta(minutes=1))  # lapsed: holds nothing
    invoice = dict(workshop=workshop, status=Order.Status.PENDING, paid_at=None, payment_method=Order.PaymentMethod.INVOICE,
                   invoice_status=Order.InvoiceStatus.OPEN, stripe_payment_intent_id="")
    OrderFactory(seat_count=2, invoice_due_at=now + timedelta(days=10), hold_expires_at=now + timedelta(days=10), **invoice)
    OrderFactory(seat_count=3, invoice_due_at=now - timedelta(days=1), hold_expires_at=now - timedelta(days=1), **invoice)
    complete_seat(team.seats.get(position=1), sessions=0)
    complete_seat(single.seats.get(), sessions=0)
    SeatAlert.objects.create(workshop=workshop, email="a@x.example")
    SeatAlert.objects.create(workshop=workshop, email="b@x.example")
    SeatAlert.objects.create(workshop=workshop, email="c@x.example", notified_at=now)
    OrderFactory(workshop=WorkshopFactory(title="Another workshop"), seat_count=7)  # not this workshop's
    return workshop


EXPECTED = {
    "sold": "5 of 40",  # team 5 - 1 refunded, and Eve
    "held": "5",  # 2 in checkout, 1 clearing, 2 on an unpaid invoice
    "left": "30",
    "net": "$520.00",  # $500 + $120 + $120 paid, $100 + $120 refunded
    "invoices_due": "1",
    "invoices_overdue": "1",
    "prework": "2 of 4",  # Ana and Eve of the 4 named attendees; seat 4 has nobody to do it yet
    "access_needs": "2",
    "unnamed": "1",
    "waiting": "2",
}


def test_home_shows_every_figure_for_an_upcoming_workshop(staff_client, busy):
    html = staff_client.get(HOME).content.decode()
    assert {key: figure(html, busy, key)["value"] for key in EXPECTED} == EXPECTED
    assert figure(html, busy, "net")["note"] == "paid $740.00, refunded $220.00"
    assert figure(html, busy, "invoices_due")["note"] == "$240.00"
    assert figure(html, busy, "invoices_overdue")["note"] == "$360.00"
    assert figure(html, busy, "prework")["note"] == "2 not finished"


def _seat_total(listed) -> int:
    return sum(int(row["seats"].split(" | ")[0].lstrip("+")) for row in listed)


def test_each_figure_opens_the_list_that_adds_up_to_it(staff_client, busy):
    html = staff_client.get(HOME).content.decode()

    def listed(key):
        return rows(staff_client.get(figure(html, busy, key)["url"]))

    assert len(listed("sold")) == 5
    assert _seat_total(listed("held")) == 5
    money = listed("net")
    assert sum(dollars(row["net"]) for row in money) == 52000
    assert sum(dollars(row["paid"]) for row in money) == 74000
    assert len(listed("prework")) == 2
    assert len(rows(staff_client.get(figure(html, busy, "prework")["url"].replace("finished", "unfinished")))) == 2
    assert sorted(row["attendee"].split(" | ")[0] for row in listed("access_needs")) == ["Ben Okafor", "Eve Adams"]
    assert [row["attendee"] for row in listed("unnamed")] == ["Seat 4 (not named yet)"]
    assert len(listed("invoices_due")) == 1 and len(listed("invoices_overdue")) == 1
    assert len(listed("waiting")) == 2
    assert staff_client.get(figure(html, busy, "left")["url"]).status_code == 200


def test_net_revenue_agrees_with_the_orders_csv_to_the_cent(staff_client, busy):
    url = figure(staff_client.get(HOME).content.decode(), busy, "net")["url"]
    any_order = Order.objects.filter(workshop=busy).first()
    response = staff_client.post(url, {"action": "export_csv", "select_across": "1", "_selected_action": [any_order.pk]})
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(table) == 3
    assert sum(dollars(row["Net (USD)"]) for row in table) == 52000


def test_past_workshops_are_one_click_away(staff_client, workshop, time_machine):
    past = WorkshopFactory(title="Last year's workshop")
    Session.objects.filter(workshop=past).update(starts_at=timezone.now() - timedelta(days=300),
                                                 ends_at=timezone.now() - timedelta(days=300) + timedelta(hours=2))
    html = staff_client.get(HOME).content.decode()
    assert f'data-workshop="{workshop.slug}"' in html and f'data-workshop="{past.slug}"' not in html
    assert 'href="/admin/?when=past">Past workshops (1)</a>' in html
    past_page = staff_client.get(f"{HOME}?when=past").content.decode()
    assert f'data-workshop="{past.slug}"' in past_page and f'data-workshop="{workshop.slug}"' not in past_page
    assert "<h1>Past workshops</h1>" in past_page


def test_on_the_day_the_home_page_leads_to_the_roster(staff_client, django_user_model, workshop, time_machine):
    first = workshop.sessions.order_by("starts_at").first()
    time_machine.move_to(first.starts_at - timedelta(hours=3))
    staff_client.force_login(django_user_model.objects.get(username="staff"))
    html = staff_client.get(HOME).content.decode()
    today = html[html.index('id="today-heading"'):html.index("</section>")]
    assert "Live session 1" in today and "4:00 PM–6:00 PM P" in today
    assert f"/admin/registrations/rosterseat/?order__workshop__id__exact={workshop.pk}" in today


def test_no_today_box_on_other_days(staff_client, workshop):
    assert 'id="today-heading"' not in staff_client.get(HOME).content.decode()


@pytest.fixture
def staff_with(client, django_user_model):
    def login(*codenames):
        user = django_user_model.objects.create_user("clerk", "clerk@example.org", "pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        client.force_login(user)
        return client

    return login


def test_money_figures_need_permission_to_see_orders(staff_with, busy):
    html = staff_with("view_rosterseat").get(HOME).content.decode()
    assert has_figure(html, busy, "sold") and has_figure(html, busy, "prework")
    for key in ("net", "held", "invoices_due", "invoices_overdue"):
        assert not has_figure(html, busy, key)
    assert "$520.00" not in html


def test_access_needs_are_counted_only_for_those_allowed_to_read_them(staff_with, busy):
    assert not has_figure(staff_with("view_rosterseat", "view_order").get(HOME).content.decode(), busy, "access_needs")


def test_access_needs_figure_for_staff_who_may_read_them(staff_with, busy):
    assert has_figure(staff_with("view_rosterseat", "view_access_needs").get(HOME).content.decode(), busy, "access_needs")


def test_the_course_card_counts_the_waitlist_and_links_to_each_part(staff_client):
    cohort = CohortFactory()
    WaitlistEntryFactory.create_batch(3, cohort=cohort)
    WaitlistEntryFactory(cohort=cohort, status="invited")
    html = staff_client.get(HOME).content.decode()
    card = html[html.index(f'id="course-{cohort.pk}"'):]
    assert 'data-figure="course_waiting"' in card
    waiting_url = f"/admin/cohorts/waitlistentry/?cohort__id__exact={cohort.pk}&amp;status__exact=waiting"
    assert waiting_url in card
    assert len(rows(staff_client.get(waiting_url.replace("&amp;", "&")))) == 3


def test_pre_work_counts_only_seats_someone_holds(staff_client, workshop):
    """A team bought 10 seats and named one so far: nobody sits in the other 9 to do pre-work (walk-through)."""
    team = OrderFactory(workshop=workshop, seat_count=10, seats=["Lena Lead"])
    OrderFactory(workshop=workshop, seats=["Eve Adams"])
    complete_seat(team.seats.get(position=1), sessions=0)
    html = staff_client.get(HOME).content.decode()
    prework = figure(html, workshop, "prework")
    assert (prework["value"], prework["note"]) == ("1 of 2", "1 not finished")
    assert figure(html, workshop, "unnamed")["value"] == "9"
    assert [row["attendee"].split(" | ")[0] for row in rows(staff_client.get(prework["url"]))] == ["Lena Lead"]
    unfinished = staff_client.get(prework["url"].replace("=finished", "=unfinished"))
    assert [row["attendee"].split(" | ")[0] for row in rows(unfinished)] == ["Eve Adams"]


def test_home_query_count_does_not_grow_with_orders(staff_client, busy):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(HOME).status_code == 200
        return len(ctx)

    before = count()
    for _ in range(10):
        OrderFactory(workshop=busy, seat_count=3, seats=["Fay Wong", "Gil Tan"])
    assert count() == before


class HomeFiguresAgreeWithTheirLists(HypothesisTestCase):
    """Any mix of orders: the home's net revenue is the sum of the list it opens and of that list's CSV,
    and seats sold and held are the rows and seats of theirs."""

    order = st.fixed_dictionaries({
        "status": st.sampled_from([s for s, _ in Order.Status.choices if s != Order.Status.MERGED]),
        "seats": st.integers(min_value=1, max_value=6),
        "refunded": st.integers(min_value=0, max_value=6),
        "unit": st.sampled_from([10000, 12000, 9950]),
        "live": st.booleans(),
    })

    @hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(orders=st.lists(order, min_size=1, max_size=6))
    def test_figures_equal_their_lists(self, orders):
        from django.contrib.auth import get_user_model

        workshop = WorkshopFactory(capacity=200)
        now = timezone.now()
        for spec in orders:
            refunded = min(spec["refunded"], spec["seats"]) if spec["status"] in ("paid", "refunded") else 0
            if spec["status"] == "refunded":
                refunded = spec["seats"]
            order = OrderFactory(
                workshop=workshop, seat_count=spec["seats"], unit_price_cents=spec["unit"], status=spec["status"],
                refunded_seat_count=refunded, refunded=refunded * spec["unit"],
                hold_expires_at=now + timedelta(minutes=20 if spec["live"] else -5),
            )
            Seat.objects.filter(order=order, position__gt=spec["seats"] - refunded).update(status=Seat.Status.REFUNDED)
        user = get_user_model().objects.create_user("prop", "p@example.org", "pw", is_staff=True, is_superuser=True)
        self.client.force_login(user)
        html = self.client.get(HOME).content.decode()
        net = figure(html, workshop, "net")
        money = rows(self.client.get(net["url"]))
        assert sum(dollars(r["net"]) for r in money) == dollars(net["value"])
        exported = self.client.post(net["url"], {"action": "export_csv", "select_across": "1",
                                                 "_selected_action": [Order.objects.first().pk]})
        if money:
            table = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
            assert sum(dollars(r["Net (USD)"]) for r in table) == dollars(net["value"])
        sold = figure(html, workshop, "sold")
        assert f"{len(rows(self.client.get(sold['url'])))} of 200" == sold["value"]
        held = figure(html, workshop, "held")
        assert _seat_total(rows(self.client.get(held["url"]))) == int(held["value"])
