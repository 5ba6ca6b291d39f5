"""Staff admin for the day: roster, attendance, CSV exports, partial refunds, resends, dashboard."""

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations.models import Attendance, Order, PreworkCompletion, Refund, Seat
from registrations.selectors.availability import seats_taken
from registrations.selectors.ledger import order_money
from registrations.selectors.progress import emails_meeting_prerequisite
from tests.factories import OrderFactory, WorkshopFactory, complete_seat
from tests.registrations.helpers import refund_whole_orders

pytestmark = pytest.mark.django_db

ROSTER = "/admin/registrations/rosterseat/"
ORDERS = "/admin/registrations/order/"
DASHBOARD = "/admin/registrations/workshopdashboard/"


@pytest.fixture
def team(workshop):
    return OrderFactory(
        workshop=workshop,
        seat_count=3,
        seats=["Ana Diaz", "Ben Okafor", "Chen Wei"],
        organisation="Lincoln Middle School",
    )


@pytest.fixture
def sessions_are_over(time_machine, staff_client, django_user_model):
    """Attendance is marked only for sessions that have started: move past the factory's two sessions
    (60 and 74 days ahead), and log the staff member in again (a login lasts two weeks)."""
    time_machine.move_to(timezone.now() + timedelta(days=90))
    staff_client.force_login(django_user_model.objects.get(username="staff"))


def act(client, url, action, objects, *, follow=True, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], **extra}
    return client.post(url, data, follow=follow)


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def changelist_rows(response) -> int:
    return response.content.decode().count('name="_selected_action"')


# --- staff only -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ROSTER, DASHBOARD, "/admin/registrations/certificate/", "/admin/registrations/remindersent/"])
def test_roster_dashboard_and_certificates_are_staff_only(client, team, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [ROSTER, ORDERS])
def test_exports_are_staff_only(client, team, url):
    objects = team.seats.all() if url == ROSTER else [team]
    response = act(client, url, "export_csv", objects, follow=False)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert b"Lincoln" not in response.content


def test_a_logged_in_non_staff_user_is_turned_away(client, team, django_user_model):
    client.force_login(django_user_model.objects.create_user("teacher", "t@example.org", "pw"))
    response = client.get(ROSTER)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


# --- the roster -----------------------------------------------------------------------------------------


def test_roster_lists_active_seats_of_paid_orders(staff_client, team, workshop):
    OrderFactory(workshop=workshop, status=Order.Status.PENDING, paid_at=None, seats=["Pending Person"])
    OrderFactory(workshop=workshop, status=Order.Status.EXPIRED, paid_at=None, seats=["Expired Person"])
    Seat.objects.filter(order=team, position=3).update(status=Seat.Status.REFUNDED)
    response = staff_client.get(ROSTER)
    html = response.content.decode()
    assert changelist_rows(response) == 2
    assert "Ana Diaz" in html and "Ben Okafor" in html
    for absent in ("Chen Wei", "Pending Person", "Expired Person"):
        assert absent not in html


def test_roster_columns_show_prework_attendance_and_order(staff_client, team, workshop, sessions_are_over):
    ana = team.seats.get(position=1)
    PreworkCompletion.objects.create(seat=ana, module=workshop.prework_modules.first())
    Attendance.objects.create(seat=ana, session=workshop.sessions.order_by("starts_at").last())
    html = staff_client.get(f"{ROSTER}?q=Ana").content.decode()
    assert "60 of 120" in html
    assert "Lincoln Middle School" in html and team.reference in html
    # Session 1 not attended, session 2 attended: Django's boolean icons in that order.
    row = html[html.index("Ana Diaz"):]
    assert row.index('alt="False"') < row.index('alt="True"')


def test_roster_is_per_workshop(staff_client, team):
    other = OrderFactory(workshop=WorkshopFactory(title="Another workshop"), seats=["Zed Other"])
    response = staff_client.get(f"{ROSTER}?order__workshop__id__exact={team.workshop_id}")
    assert changelist_rows(response) == 3
    assert "Zed Other" not in response.content.decode()
    response = staff_client.get(f"{ROSTER}?order__workshop__id__exact={other.workshop_id}")
    assert changelist_rows(response) == 1


def test_roster_filters_by_prework(staff_client, team):
    complete_seat(team.seats.get(position=2), sessions=0)
    html = staff_client.get(f"{ROSTER}?prework=finished").content.decode()
    assert "Ben Okafor" in html and "Ana Diaz" not in html
    html = staff_client.get(f"{ROSTER}?prework=unfinished").content.decode()
    assert "Ben Okafor" not in html and "Ana Diaz" in html


def test_roster_query_count_does_not_grow_with_rows(staff_client, workshop):
    OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(ROSTER).status_code == 200
        return len(ctx.captured_queries)

    baseline = count()
    for _ in range(12):
        order = OrderFactory(workshop=workshop, seat_count=3, seats=["Cara Lee", "Dev Patel", "Eve Adams"])
        complete_seat(order.seats.first())
    OrderFactory(workshop=WorkshopFactory(), seat_count=2, seats=["Fay Wong"])
    assert count() == baseline


def test_order_and_seat_changelists_stay_flat_too(staff_client, workshop):
    OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz"])

    def count(url) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = {url: count(url) for url in (ORDERS, "/admin/registrations/seat/", "/admin/registrations/certificate/")}
    for _ in range(8):
        complete_seat(OrderFactory(workshop=workshop, seats=["Cara Lee"]).seats.get())
    for seat in Seat.objects.all():
        staff_client.get(f"/seats/{seat.token}/certificate.pdf")
    assert {url: count(url) for url in before} == before


# --- attendance ---------------------------------------------------------------------------------------


def test_marking_and_clearing_attendance(staff_client, team, workshop, sessions_are_over):
    first, second = workshop.sessions.order_by("starts_at")
    ana, ben, chen = team.seats.order_by("position")
    response = act(staff_client, ROSTER, "mark_session_1", [ana, ben])
    assert "Marked session 1 attendance for 2 attendee(s)." in response.content.decode()
    act(staff_client, ROSTER, "mark_session_2", [ana])
    act(staff_client, ROSTER, "mark_session_1", [ana])  # again: nothing doubles
    assert sorted(Attendance.objects.values_list("seat_id", "session_id")) == sorted(
        [(ana.pk, first.pk), (ben.pk, first.pk), (ana.pk, second.pk)]
    )
    act(staff_client, ROSTER, "clear_session_1", [ben])
    assert not Attendance.objects.filter(seat=ben).exists()
    act(staff_client, ROSTER, "clear_session_2", [ana])
    assert list(Attendance.objects.filter(seat=ana).values_list("session_id", flat=True)) == [first.pk]


@pytest.fixture
def other_order():
    return OrderFactory(workshop=WorkshopFactory(), seats=["Zed Other"])


def test_attendance_is_keyed_by_the_seats_own_workshop(staff_client, team, other_order, sessions_are_over):
    zed = other_order.seats.get()
    act(staff_client, ROSTER, "mark_session_2", [team.seats.get(position=1), zed])
    assert Attendance.objects.get(seat=zed).session.workshop_id == other_order.workshop_id


def test_attendance_for_a_session_the_workshop_lacks_is_refused(staff_client, workshop, other_order, sessions_are_over):
    # The other workshop has two sessions, so the roster offers "session 2"; this one has only one.
    workshop.sessions.order_by("starts_at").last().delete()
    order = OrderFactory(workshop=workshop, seats=["Ana Diaz"])
    response = act(staff_client, ROSTER, "mark_session_2", order.seats.all())
    assert "has no session 2" in response.content.decode()
    assert not Attendance.objects.exists()


def test_attendance_is_queryable_by_email_for_the_cohort_prerequisite(staff_client, team, workshop, sessions_are_over):

    act(staff_client, ROSTER, "mark_session_1", [team.seats.get(position=1)])
    found = emails_meeting_prerequisite(workshop_id=workshop.pk, emails=["ANA@school.example", "nobody@x.example"])
    assert found == {"ana@school.example"}


# --- CSV exports --------------------------------------------------------------------------------------------


def test_roster_csv_has_exactly_the_selected_rows(staff_client, team):
    ana, ben, _ = team.seats.order_by("position")
    rows = read_csv(act(staff_client, ROSTER, "export_csv", [ana, ben]))
    assert rows[0][:3] == ["Workshop", "Attendee", "Email"]
    assert [r[1] for r in rows[1:]] == ["Ana Diaz", "Ben Okafor"]


def test_roster_csv_of_all_rows_matches_the_filtered_changelist(staff_client, team):
    OrderFactory(workshop=WorkshopFactory(), seats=["Zed Other"])
    OrderFactory(workshop=team.workshop, status=Order.Status.PENDING, paid_at=None, seats=["Pending Person"])
    query = f"?order__workshop__id__exact={team.workshop_id}"
    shown = staff_client.get(f"{ROSTER}{query}")
    response = staff_client.post(
        f"{ROSTER}{query}",
        {"action": "export_csv", "select_across": "1", "_selected_action": [team.seats.first().pk]},
    )
    rows = read_csv(response)
    assert len(rows) - 1 == changelist_rows(shown) == 3
    assert [r[1] for r in rows[1:]] == ["Ana Diaz", "Ben Okafor", "Chen Wei"]


def test_roster_csv_quotes_commas_and_keeps_non_ascii_names(staff_client, workshop):
    order = OrderFactory(workshop=workshop, seats=["Ana Díaz"], organisation='Escuela "Nueva", Distrito 5')
    seat = order.seats.get()
    Seat.objects.filter(pk=seat.pk).update(attendee_name="Núñez, José Ñ.", attendee_email="jose@escuela.example")
    complete_seat(seat, sessions=1)
    response = act(staff_client, ROSTER, "export_csv", [seat])
    text = response.content.decode("utf-8-sig")
    assert '"Núñez, José Ñ."' in text
    assert '"Escuela ""Nueva"", Distrito 5"' in text
    row = read_csv(response)[1]
    assert row[1:4] == ["Núñez, José Ñ.", "jose@escuela.example", 'Escuela "Nueva", Distrito 5']
    assert row[7:11] == ["120", "120", "yes", "no"]


def test_csv_cells_cannot_become_spreadsheet_formulas(staff_client, workshop):
    order = OrderFactory(workshop=workshop, seats=["Ana Diaz"], organisation="=HYPERLINK(\"http://evil\")")
    rows = read_csv(act(staff_client, ORDERS, "export_csv", [order]))
    assert rows[1][6] == "'=HYPERLINK(\"http://evil\")"


def test_orders_csv_has_exactly_the_selected_orders_with_money_in_dollars(staff_client, workshop):
    team = OrderFactory(
        workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5, organisation="Lincoln, Unified",
        buyer_name="Zoë Brontë", refunded=10000, refunded_seat_count=1,
    )
    single = OrderFactory(workshop=workshop)
    OrderFactory(workshop=workshop)  # not selected
    rows = read_csv(act(staff_client, ORDERS, "export_csv", [team, single]))
    header, body = rows[0], rows[1:]
    assert len(body) == 2
    by_reference = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    row = by_reference[team.reference]
    assert row["Purchaser"] == "Zoë Brontë" and row["Organisation"] == "Lincoln, Unified"
    assert (row["Seats"], row["Seats refunded"], row["Price tier (min seats)"]) == ("5", "1", "5")
    assert (row["Unit price (USD)"], row["Order total (USD)"], row["Paid (USD)"], row["Refunded (USD)"], row["Net (USD)"]) == (
        "100.00", "500.00", "500.00", "100.00", "400.00"
    )
    assert row["Stripe payment"] == team.stripe_payment_intent_id
    assert by_reference[single.reference]["Paid (USD)"] == "120.00"


def test_orders_csv_of_all_rows_matches_the_filtered_changelist(staff_client, workshop):
    paid = OrderFactory.create_batch(3, workshop=workshop)
    OrderFactory(workshop=workshop, status=Order.Status.EXPIRED, paid_at=None)
    shown = staff_client.get(f"{ORDERS}?status__exact=paid")
    rows = read_csv(
        staff_client.post(
            f"{ORDERS}?status__exact=paid", {"action": "export_csv", "select_across": "1", "_selected_action": [paid[0].pk]}
        )
    )
    assert len(rows) - 1 == changelist_rows(shown) == 3
    assert {r[0] for r in rows[1:]} == {o.reference for o in paid}


# --- partial refunds ---------------------------------------------------------------------------------------


@pytest.fixture
def big_team(workshop):
    return OrderFactory(
        workshop=workshop,
        seat_count=5,
        unit_price_cents=10000,
        tier_min_seats=5,
        seats=["Ana Diaz", "Ben Okafor", "Chen Wei", "Dev Patel", "Eve Adams"],
    )


def test_refund_action_asks_for_confirmation_first(staff_client, big_team, stripe_double):
    seats = list(big_team.seats.filter(position__in=[2, 4]))
    response = act(staff_client, ROSTER, "refund_selected_seats", seats)
    html = response.content.decode()
    assert "Yes, refund through Stripe" in html
    # 5 seats at $100, 2 refunded: the 3 kept cost $360 at the single-seat price, so $140 of the $500 comes back.
    assert f"{big_team.reference}: Lincoln Unified School District – refund $140.00" in html
    assert not stripe_double.requests_to("POST", "/v1/refunds")
    assert not Refund.objects.exists()


def test_partial_refund_frees_exactly_the_refunded_seats(client, staff_client, big_team, stripe_double, workshop):
    seats = list(big_team.seats.filter(position__in=[2, 4]))
    kept = list(big_team.seats.exclude(position__in=[2, 4]))
    before = seats_taken(workshop_id=workshop.pk)
    response = act(staff_client, ROSTER, "refund_selected_seats", seats, post="yes")
    assert f"{big_team.reference}: refunded $140.00 for Ben Okafor, Dev Patel." in response.content.decode()
    assert "The buyer has been emailed." in response.content.decode()
    requests = stripe_double.requests_to("POST", "/v1/refunds")
    assert len(requests) == 1
    assert requests[0]["params"]["amount"] == "14000"  # the 3 seats kept cost $360 at the single-seat price
    assert requests[0]["params"]["payment_intent"] == big_team.stripe_payment_intent_id
    assert seats_taken(workshop_id=workshop.pk) == before - 2
    assert sorted(Seat.objects.filter(status=Seat.Status.REFUNDED).values_list("pk", flat=True)) == sorted(s.pk for s in seats)
    big_team.refresh_from_db()
    assert (big_team.status, big_team.refunded_seat_count, order_money(order=big_team).refunded_cents) == (
        Order.Status.PAID, 2, 14000
    )
    for seat in seats:
        assert client.get(f"/seats/{seat.token}/").status_code == 404
    for seat in kept:
        assert client.get(f"/seats/{seat.token}/").status_code == 200


def test_refunding_seats_of_two_orders_makes_one_refund_each(staff_client, big_team, stripe_double, workshop):
    single = OrderFactory(workshop=workshop, seats=["Fay Wong"])
    seats = [big_team.seats.get(position=1), single.seats.get()]
    act(staff_client, "/admin/registrations/seat/", "refund_selected_seats", seats, post="yes")
    amounts = sorted(int(r["params"]["amount"]) for r in stripe_double.requests_to("POST", "/v1/refunds"))
    assert amounts == [2000, 12000]  # the team's 4 seats kept cost $480 at the single-seat price
    single.refresh_from_db()
    assert single.status == Order.Status.REFUNDED


def test_stripe_refusing_a_refund_changes_nothing(staff_client, big_team, stripe_double, workshop):
    stripe_double.fail_next(status=402, path_prefix="/v1/refunds", method="POST")
    before = seats_taken(workshop_id=workshop.pk)
    response = act(staff_client, ROSTER, "refund_selected_seats", [big_team.seats.get(position=1)], post="yes")
    assert "Stripe refused the refund" in response.content.decode()
    assert seats_taken(workshop_id=workshop.pk) == before
    assert not Seat.objects.filter(status=Seat.Status.REFUNDED).exists()
    assert not Refund.objects.exists()


def test_whole_order_refund_still_works(staff_client, big_team, stripe_double):
    refund_whole_orders(staff_client, [big_team])
    big_team.refresh_from_db()
    assert big_team.status == Order.Status.REFUNDED
    assert stripe_double.requests_to("POST", "/v1/refunds")[0]["params"]["amount"] == "50000"


# --- resends ----------------------------------------------------------------------------------------------


def test_resend_confirmation_sends_it_again(staff_client, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        act(staff_client, ORDERS, "resend_confirmation", [team])
        act(staff_client, ORDERS, "resend_confirmation", [team])
    to_buyer = [m for m in mail.outbox if m.to == [team.buyer_email]]
    assert len(to_buyer) == 2 and team.reference in to_buyer[0].subject


def test_resend_welcome_from_the_roster(staff_client, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        act(staff_client, ROSTER, "resend_welcome", [team.seats.get(position=2)])
    assert [m.to for m in mail.outbox] == [["ben@school.example"]]


# --- the dashboard ---------------------------------------------------------------------------------------


def test_dashboard_counts_sold_held_left_and_net_revenue(staff_client, workshop):
    now = timezone.now()
    OrderFactory(workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5,
                 refunded_seat_count=1, refunded=10000)                                          # 4 sold, $400
    OrderFactory(workshop=workshop, seat_count=2)                                                # 2 sold, $240
    OrderFactory(workshop=workshop, seat_count=1, status=Order.Status.REFUNDED,
                 refunded_seat_count=1, refunded=12000)                                         # $0
    OrderFactory(workshop=workshop, seat_count=3, status=Order.Status.PENDING, paid_at=None,
                 hold_expires_at=now + timedelta(minutes=20))                                   # 3 held
    OrderFactory(workshop=workshop, seat_count=2, status=Order.Status.PROCESSING, paid_at=None)  # 2 held
    OrderFactory(workshop=workshop, seat_count=6, status=Order.Status.PENDING, paid_at=None,
                 hold_expires_at=now - timedelta(minutes=1))                                    # lapsed: nothing
    OrderFactory(workshop=workshop, seat_count=1, status=Order.Status.EXPIRED, paid_at=None)
    response = staff_client.get(DASHBOARD)
    html = response.content.decode()
    row = html[html.index(f'data-workshop="{workshop.slug}"'):]
    row = row[: row.index("</tr>")]
    assert "<td data-sold>6</td>" in row
    assert "<td data-held>5</td>" in row
    assert f"<td data-left>{workshop.capacity - 11}</td>" in row
    assert '<td data-revenue data-revenue-cents="64000">$640.00</td>' in row


def test_dashboard_agrees_with_the_capacity_count(staff_client, workshop):
    OrderFactory(workshop=workshop, seat_count=4)
    OrderFactory(workshop=workshop, seat_count=2, status=Order.Status.PENDING, paid_at=None)
    html = staff_client.get(DASHBOARD).content.decode()
    assert f"<td data-left>{workshop.capacity - seats_taken(workshop_id=workshop.pk)}</td>" in html


def test_dashboard_is_in_the_money_section_and_links_to_each_roster(staff_client, workshop):
    assert DASHBOARD in staff_client.get("/admin/section/money/").content.decode()
    html = staff_client.get(DASHBOARD).content.decode()
    assert f"{ROSTER}?order__workshop__id__exact={workshop.pk}" in html
    assert DASHBOARD in staff_client.get(ROSTER).content.decode()


def test_dashboard_query_count_does_not_grow_with_orders(staff_client, workshop):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(DASHBOARD).status_code == 200
        return len(ctx.captured_queries)

    OrderFactory(workshop=workshop)
    baseline = count()
    OrderFactory.create_batch(10, workshop=workshop, seat_count=2)
    OrderFactory.create_batch(5, workshop=workshop, status=Order.Status.PENDING, paid_at=None)
    assert count() == baseline


def test_roster_csv_numbers_each_seat_and_says_which_are_not_named_yet(staff_client, workshop):
    """Unnamed seats were identical blank rows with no seat number (found clicking through)."""
    order = OrderFactory(workshop=workshop, seat_count=3, seats=["Ana Diaz"])
    rows = read_csv(act(staff_client, ROSTER, "export_csv", list(order.seats.order_by("position"))))
    header, body = rows[0], rows[1:]
    named = [dict(zip(header, r, strict=True)) for r in body]
    assert sorted((r["Seat"], r["Attendee"]) for r in named) == [("1", "Ana Diaz"), ("2", "(not named yet)"), ("3", "(not named yet)")]
