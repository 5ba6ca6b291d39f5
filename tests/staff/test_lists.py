"""Lists staff read: orders with their money and method, additions under their order, the roster with access
needs for those allowed, and labels that say what they mean."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from registrations.models import Order, Seat
from tests.factories import OrderFactory
from tests.staff.helpers import rows

pytestmark = pytest.mark.django_db

ORDERS = "/admin/registrations/order/"
ROSTER = "/admin/registrations/rosterseat/"


def test_orders_list_shows_status_seats_and_money_in_dollars(staff_client, workshop):
    order = OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5,
                         refunded_seat_count=1, refunded=10000, buyer_name="Maya Johnson",
                         organisation="Lincoln Unified")
    [row] = rows(staff_client.get(ORDERS))
    assert row["order"].startswith(order.reference)
    assert row["buyer"] == "Maya Johnson | Lincoln Unified"
    assert (row["state"], row["seats"]) == ("Paid", "5 | 1 refunded")
    assert (row["total"], row["paid"], row["refunded"], row["net"], row["method"]) == (
        "$500.00", "$500.00", "$100.00", "$400.00", "Card"
    )


def test_an_unpaid_order_has_taken_nothing(staff_client, workshop):
    OrderFactory(workshop=workshop, status=Order.Status.EXPIRED, paid_at=None)
    [row] = rows(staff_client.get(ORDERS))
    assert (row["total"], row["paid"], row["net"]) == ("$120.00", "$0.00", "$0.00")


@pytest.mark.parametrize(
    "fields, label",
    [
        ({}, "Card"),
        ({"is_test_payment": True}, "Test payment"),
        ({"payment_method": Order.PaymentMethod.INVOICE}, "Invoice"),
        ({"payment_method": Order.PaymentMethod.INVOICE, "is_test_payment": True}, "Invoice (test)"),
        ({"total_cents": 0}, "No payment"),
    ],
)
def test_the_method_says_how_the_order_was_paid(staff_client, client, workshop, fields, label):
    order = OrderFactory(workshop=workshop, **fields)
    [row] = rows(staff_client.get(ORDERS))
    assert row["method"] == label
    badge = f"data-payment-badge>{label}</span>"
    assert badge in client.get(f"/orders/{order.token}/").content.decode()


def test_an_invoice_order_is_never_called_a_test_payment(client, workshop):
    order = OrderFactory(workshop=workshop, payment_method=Order.PaymentMethod.INVOICE, is_test_payment=True)
    assert "Test payment" not in client.get(f"/orders/{order.token}/").content.decode()


def test_seats_added_later_sit_under_their_order_and_are_not_counted_twice(staff_client, workshop):
    older = OrderFactory(workshop=workshop, buyer_name="First Buyer")
    team = OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5, total_cents=50000,
                        buyer_name="Team Lead")
    newest = OrderFactory(workshop=workshop, buyer_name="Latest Buyer")
    addition = OrderFactory(workshop=workshop, seat_count=2, kind=Order.Kind.ADDITION, parent=team,
                            status=Order.Status.MERGED, total_cents=20000, seats=[])
    listed = rows(staff_client.get(ORDERS))
    assert [r["order"].split(" | ")[0].lstrip("↳ ") for r in listed] == [
        newest.reference, team.reference, addition.reference, older.reference
    ]
    added = listed[2]
    assert added["seats"] == "+2"
    assert added["paid"] == f"in {team.reference}" and added["net"] == "–"
    assert f"Seats added to {team.reference}" in added["order"]


def test_the_order_page_shows_the_purchase_order_number_once(staff_client, client, workshop):
    order = OrderFactory(workshop=workshop, payment_method=Order.PaymentMethod.INVOICE, po_number="PO-2027-0042",
                         invoice_number="ESL-0042", invoice_status=Order.InvoiceStatus.PAID, stripe_invoice_id="in_1")
    admin_page = staff_client.get(f"/admin/registrations/order/{order.pk}/change/").content.decode()
    assert admin_page.count("PO-2027-0042") == 1
    public = client.get(f"/orders/{order.token}/").content.decode()
    shown = public.replace('value="PO-2027-0042"', "")  # the edit box, folded away under "Change…"
    assert shown.count("PO-2027-0042") == 1
    assert "<summary" in public and "Change the purchase-order number" in public


def test_a_card_orders_page_shows_only_the_invoice_field_it_can_use(staff_client, workshop):
    order = OrderFactory(workshop=workshop)
    html = staff_client.get(f"/admin/registrations/order/{order.pk}/change/").content.decode()
    assert "Purchase-order number" in html and "Hosted invoice page" not in html


# --- the roster ------------------------------------------------------------------------------------------


@pytest.fixture
def needs(workshop):
    order = OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    Seat.objects.filter(order=order, position=1).update(needs_captions=True, access_note="Sits near the front")
    return order


@pytest.fixture
def coordinator(client, django_user_model):
    def login(*extra):
        user = django_user_model.objects.create_user("coord", "c@example.org", "pw", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=["view_rosterseat", *extra]))
        client.force_login(user)
        return client

    return login


def export(client, seats):
    response = client.post(ROSTER, {"action": "export_csv", "_selected_action": [s.pk for s in seats]})
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_roster_shows_access_needs_to_staff_allowed_to_read_them(coordinator, needs):
    client = coordinator("view_access_needs", "view_seat", "view_order")
    listed = {r["attendee"].split(" | ")[0]: r for r in rows(client.get(ROSTER))}
    assert listed["Ana Diaz"]["access_needs"] == "captions, Sits near the front"
    assert listed["Ben Okafor"]["access_needs"] == "–"
    assert {r["Attendee"]: r["Access needs"] for r in export(client, needs.seats.all())} == {
        "Ana Diaz": "captions, Sits near the front", "Ben Okafor": ""
    }
    assert "?access=yes" in client.get(ROSTER).content.decode()


def test_the_roster_hides_access_needs_from_everyone_else(coordinator, needs):
    client = coordinator()
    html = client.get(ROSTER).content.decode()
    assert "Sits near the front" not in html and "captions" not in html and "?access=yes" not in html
    exported = export(client, needs.seats.all())
    assert "Access needs" not in exported[0] and "Sits near the front" not in str(exported)


def test_the_order_page_hides_access_needs_without_permission(coordinator, needs):
    client = coordinator("view_order")
    html = client.get(f"/admin/registrations/order/{needs.pk}/change/").content.decode()
    assert needs.reference in html and "Sits near the front" not in html


def test_the_roster_has_one_attendance_column_per_session(staff_client, workshop, needs):
    from workshops.models import Session

    first = workshop.sessions.order_by("starts_at").first()
    Session.objects.create(workshop=workshop, title="Live session 3", starts_at=first.starts_at.replace(year=first.starts_at.year + 1),
                           ends_at=first.ends_at.replace(year=first.ends_at.year + 1))
    [row, _] = rows(staff_client.get(f"{ROSTER}?order__workshop__id__exact={workshop.pk}"))
    assert {"attended_session_1", "attended_session_2", "attended_session_3"} <= set(row)
    actions = staff_client.get(f"{ROSTER}?order__workshop__id__exact={workshop.pk}").content.decode()
    assert 'value="mark_session_3"' in actions and 'value="clear_session_3"' in actions


def test_each_roster_cell_carries_its_column_heading_for_the_phone_layout(staff_client, workshop, needs):
    days = [f"{s.starts_at.astimezone(workshop.tz):%b %-d}" for s in workshop.sessions.order_by("starts_at")]
    html = staff_client.get(f"{ROSTER}?order__workshop__id__exact={workshop.pk}").content.decode()
    assert '<table id="result_list" class="roster-list" role="table">' in html and "css/roster.css" in html
    for number, day in enumerate(days, 1):
        assert html.count(f'<td role="cell" data-label="Session {number} {day}" class="field-attended_session_{number}">') == 2
    assert html.count('<td role="cell" data-label="School or district, order" class="field-organisation">') == 2
    assert html.count('<td role="cell" class="action-checkbox">') == 2  # the tick box: no label of its own
