"""The buyer's order page: receipt, seats to name or hand over, the change deadline, privacy."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from registrations.models import Order, PreworkCompletion, Seat
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_order(workshop):
    return OrderFactory(
        workshop=workshop,
        seat_count=3,
        seats=["Ana Diaz", "Ben Okafor"],
        buyer_name="Maya Johnson",
        buyer_email="maya@lincoln.example",
        organisation="Lincoln Middle School",
    )


def seat(order, position):
    return order.seats.get(position=position)


def change(client, order, position, name, email, kind=None):
    data = {f"seat-{position}-name": name, f"seat-{position}-email": email}
    if kind:
        data[f"seat-{position}-change"] = kind
    return client.post(f"/orders/{order.token}/seats/{position}/", data)


def first_session_start(workshop):
    return workshop.sessions.order_by("starts_at").first().starts_at


# --- the receipt --------------------------------------------------------------------------------


def test_receipt_shows_what_a_finance_office_needs(client, workshop):
    order = OrderFactory(
        workshop=workshop, seat_count=5, unit_price_cents=10000, tier_min_seats=5, organisation="Lincoln Unified",
        stripe_payment_intent_id="pi_receipt_123",
    )
    html = client.get(f"/orders/{order.token}/").content.decode()
    for expected in ("Lincoln Unified", "$100.00", "team price, 5+ seats", "$500.00", "pi_receipt_123", "Print receipt"):
        assert expected in html
    assert "<dt class=\"col-sm-4\">Seats</dt><dd class=\"col-sm-8\">5</dd>" in html


# --- naming, correcting and handing over seats -----------------------------------------------


def test_lead_names_an_unnamed_seat_and_the_attendee_is_welcomed(client, team_order, django_capture_on_commit_callbacks):
    empty = seat(team_order, 3)
    with django_capture_on_commit_callbacks(execute=True):
        response = change(client, team_order, 3, "Chen Wei", "chen@lincoln.example")
    assert response.status_code == 302
    empty.refresh_from_db()
    assert (empty.attendee_name, empty.attendee_email) == ("Chen Wei", "chen@lincoln.example")
    assert [m.to for m in mail.outbox] == [["chen@lincoln.example"]]
    assert f"/seats/{empty.token}/" in mail.outbox[0].body
    assert empty.welcome_sent_at is not None


def test_giving_a_seat_to_a_colleague_retires_the_old_link(client, team_order, django_capture_on_commit_callbacks):
    ana = seat(team_order, 1)
    old_token = ana.token
    with django_capture_on_commit_callbacks(execute=True):
        response = change(client, team_order, 1, "Dana Reyes", "dana@lincoln.example", kind="new_person")
    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.token != old_token
    assert client.get(f"/seats/{old_token}/").status_code == 404
    assert client.get(f"/seats/{ana.token}/").status_code == 200
    welcome = [m for m in mail.outbox if m.to == ["dana@lincoln.example"]]
    assert len(welcome) == 1 and f"/seats/{ana.token}/" in welcome[0].body
    assert old_token not in welcome[0].body
    # The first attendee is told the seat went to someone else, without being told to whom.
    told = [m for m in mail.outbox if m.to == ["ana@school.example"]]
    assert len(told) == 1 and "has given your seat to someone else" in told[0].body
    assert "Dana" not in told[0].body and ana.token not in told[0].body
    assert len(mail.outbox) == 2


def test_correcting_an_attendees_email_tells_the_old_address_its_link_moved(client, team_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        change(client, team_order, 2, "Ben Okafor", "ben.okafor@lincoln.example", kind="correct")
    told = [m for m in mail.outbox if m.to == ["ben@school.example"]]
    assert len(told) == 1 and "We have sent a new private link to the new address" in told[0].body
    assert "ben.okafor@lincoln.example" not in told[0].body


def test_new_attendee_starts_prework_afresh_without_the_old_access_needs(client, team_order, workshop):
    ana = seat(team_order, 1)
    Seat.objects.filter(pk=ana.pk).update(needs_interpreter=True, access_note="Ana: screen reader")
    PreworkCompletion.objects.create(seat=ana, module=workshop.prework_modules.first())
    change(client, team_order, 1, "Dana Reyes", "dana@lincoln.example", kind="new_person")
    ana.refresh_from_db()
    assert not ana.prework_completions.exists()
    assert (ana.needs_interpreter, ana.access_note) == (False, "")


def test_correcting_a_name_keeps_the_link_and_progress_and_sends_nothing(client, team_order, workshop, django_capture_on_commit_callbacks):
    ana = seat(team_order, 1)
    PreworkCompletion.objects.create(seat=ana, module=workshop.prework_modules.first())
    with django_capture_on_commit_callbacks(execute=True):
        change(client, team_order, 1, "Ana María Díaz", "ana@school.example", kind="correct")
    updated = Seat.objects.get(pk=ana.pk)
    assert updated.attendee_name == "Ana María Díaz"
    assert updated.token == ana.token
    assert updated.prework_completions.count() == 1
    assert mail.outbox == []


def test_correcting_an_email_sends_a_fresh_link_and_keeps_progress(client, team_order, workshop, django_capture_on_commit_callbacks):
    ana = seat(team_order, 1)
    PreworkCompletion.objects.create(seat=ana, module=workshop.prework_modules.first())
    with django_capture_on_commit_callbacks(execute=True):
        change(client, team_order, 1, "Ana Diaz", "ana.diaz@lincoln.example", kind="correct")
    updated = Seat.objects.get(pk=ana.pk)
    # The link went to the mistyped address, so it must stop working.
    assert updated.token != ana.token
    assert client.get(f"/seats/{ana.token}/").status_code == 404
    assert updated.prework_completions.count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["ana.diaz@lincoln.example", "ana@school.example"]


def test_changing_a_named_seat_asks_whether_it_is_the_same_person(client, team_order):
    response = change(client, team_order, 1, "Dana Reyes", "dana@lincoln.example")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose whether this is the same person or someone new." in html
    assert 'value="Dana Reyes"' in html  # what they typed is kept
    assert seat(team_order, 1).attendee_name == "Ana Diaz"


def test_a_bad_email_is_shown_beside_the_field_with_the_input_kept(client, team_order):
    response = change(client, team_order, 3, "Chen Wei", "chen at lincoln")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_seat-3-email_error"' in html
    assert "Enter a valid email address." in html
    assert 'value="chen at lincoln"' in html and 'value="Chen Wei"' in html
    assert seat(team_order, 3).attendee_email == ""


def test_a_blank_name_is_refused(client, team_order):
    response = change(client, team_order, 3, "   ", "chen@lincoln.example")
    assert response.status_code == 400
    assert 'id="id_seat-3-name_error"' in response.content.decode()


def test_the_same_email_on_two_seats_of_an_order_is_refused(client, team_order):
    response = change(client, team_order, 3, "Ana Again", "ANA@school.example")
    assert response.status_code == 400
    assert "Another seat on this order already has this email." in response.content.decode()
    assert seat(team_order, 3).attendee_email == ""


def test_handing_a_seat_to_the_same_email_is_refused(client, team_order):
    old_token = seat(team_order, 1).token
    response = change(client, team_order, 1, "Ana Diaz", "ana@school.example", kind="new_person")
    assert response.status_code == 400
    assert "already belongs to this email" in response.content.decode()
    assert seat(team_order, 1).token == old_token


def test_seat_changes_close_at_the_deadline(client, team_order, workshop):
    deadline = first_session_start(workshop) - timedelta(hours=workshop.seat_changes_close_hours)
    with time_machine.travel(deadline - timedelta(minutes=1)):
        assert change(client, team_order, 3, "Chen Wei", "chen@lincoln.example").status_code == 302
    assert seat(team_order, 3).attendee_name == "Chen Wei"
    with time_machine.travel(deadline):
        response = change(client, team_order, 2, "Dana Reyes", "dana@lincoln.example", kind="new_person")
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
    assert "Seat changes have closed for this workshop" in page
    assert seat(team_order, 2).attendee_name == "Ben Okafor"


def test_after_the_deadline_the_seat_forms_are_gone(client, team_order, workshop):
    with time_machine.travel(first_session_start(workshop) - timedelta(hours=1)):
        html = client.get(f"/orders/{team_order.token}/?edit=3").content.decode()
    assert "Seat changes closed on" in html
    assert "seat-3-name" not in html and "?edit=" not in html
    html = client.get(f"/orders/{team_order.token}/?edit=3").content.decode()
    assert 'name="seat-3-name"' in html


def test_the_deadline_follows_the_workshop_setting(client, team_order, workshop):
    workshop.seat_changes_close_hours = 72
    workshop.save()
    with time_machine.travel(first_session_start(workshop) - timedelta(hours=48)):
        response = change(client, team_order, 3, "Chen Wei", "chen@lincoln.example")
    assert response.status_code == 302
    assert seat(team_order, 3).attendee_email == ""


def test_a_pending_order_cannot_name_seats(client, workshop):
    order = OrderFactory(workshop=workshop, seat_count=2, status=Order.Status.PENDING, paid_at=None)
    html = client.get(f"/orders/{order.token}/").content.decode()
    assert 'name="seat-1-name"' not in html
    response = change(client, order, 1, "Chen Wei", "chen@lincoln.example")
    assert response.status_code == 302
    assert "once the order is paid" in client.get(response["Location"]).content.decode()
    assert seat(order, 1).attendee_email == ""


def test_a_refunded_seat_cannot_be_changed(client, team_order):
    Seat.objects.filter(pk=seat(team_order, 3).pk).update(status=Seat.Status.REFUNDED)
    assert change(client, team_order, 3, "Chen Wei", "chen@lincoln.example").status_code == 404
    assert 'name="seat-3-name"' not in client.get(f"/orders/{team_order.token}/").content.decode()


@pytest.mark.parametrize("position", ["0", "4", "99999999999999999999"])
def test_a_seat_the_order_does_not_have_is_404(client, team_order, position):
    response = client.post(f"/orders/{team_order.token}/seats/{position}/", {})
    assert response.status_code == 404


def test_a_seat_of_another_order_cannot_be_changed_through_this_one(client, team_order, workshop):
    other = OrderFactory(workshop=workshop, seat_count=4)
    assert change(client, team_order, 4, "Chen Wei", "chen@lincoln.example").status_code == 404
    assert seat(other, 4).attendee_email == ""


def test_seat_forms_need_the_csrf_token(team_order):
    client = Client(enforce_csrf_checks=True)
    response = change(client, team_order, 3, "Chen Wei", "chen@lincoln.example")
    assert response.status_code == 403
    assert seat(team_order, 3).attendee_email == ""


def test_seat_change_rejects_get(client, team_order):
    assert client.get(f"/orders/{team_order.token}/seats/1/").status_code == 405


# --- what the lead sees --------------------------------------------------------------------------


def test_lead_sees_each_attendees_prework_progress(client, team_order, workshop):
    PreworkCompletion.objects.create(seat=seat(team_order, 1), module=workshop.prework_modules.first())
    html = client.get(f"/orders/{team_order.token}/").content.decode()
    assert "pre-work 60 of 120 min" in html
    assert "pre-work 0 of 120 min" in html


def test_lead_never_sees_access_needs(client, team_order):
    Seat.objects.filter(pk=seat(team_order, 1).pk).update(
        needs_captions=True, needs_interpreter=True, access_note="Private: uses a screen reader"
    )
    html = client.get(f"/orders/{team_order.token}/").content.decode()
    assert "screen reader" not in html
    assert "interpreter" not in html.lower()
    assert "captions" not in html.lower()


@pytest.mark.parametrize("token", ["nope", "A" * 43, "A" * 500, "%00" * 20, "..%2F..%2Fetc", "’’’’’’’’’’’’’’’’’’’’"])
def test_order_page_is_404_for_a_wrong_or_malformed_token(client, team_order, token):
    assert client.get(f"/orders/{token}/").status_code == 404
    assert client.post(f"/orders/{token}/seats/1/", {}).status_code == 404


def _order_page_queries(client, order) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/orders/{order.token}/").status_code == 200
    return len(ctx.captured_queries)


def test_order_page_queries_do_not_grow_with_orders_or_seats(client, workshop):
    small = OrderFactory(workshop=workshop, seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    baseline = _order_page_queries(client, small)
    OrderFactory.create_batch(15, workshop=workshop, seat_count=2)
    big = OrderFactory(workshop=workshop, seat_count=12, seats=["Ana Diaz", "Ben Okafor", "Chen Wei"])
    assert _order_page_queries(client, small) == baseline
    assert _order_page_queries(client, big) == baseline
