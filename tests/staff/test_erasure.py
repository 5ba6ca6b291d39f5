"""Erasing a person: name, email, access needs and links go from seats, orders and waitlist entries (and the
audit trail); the money records stay."""

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.test import Client

from cohorts.models import WaitlistEntry
from registrations.models import Certificate, Order, OutboundEmail, Quote, Refund, Seat, SeatAlert
from registrations.services.learning import issue_certificate
from staff.models import Erasure
from tests.cohorts.factories import WaitlistEntryFactory
from tests.factories import OrderFactory, complete_seat

pytestmark = pytest.mark.django_db

ANA = "ana@school.example"


@pytest.fixture
def ana_everywhere():
    """Ana bought a team order (and attends), is on the waitlist, asked for a quote and a seat alert."""
    order = OrderFactory(seat_count=2, buyer_name="Ana Diaz", buyer_email="Ana@School.example", seats=["Ana Diaz", "Ben Okafor"])
    Seat.objects.filter(order=order, position=1).update(needs_interpreter=True, access_note="ASL interpreter")
    Refund.objects.create(order=order, seat_count=0, amount_cents=500, reason="Goodwill")
    seat = order.seats.get(position=1)
    complete_seat(seat)
    certificate = issue_certificate(seat=seat)
    entry = WaitlistEntryFactory(email=ANA, name="Ana Diaz", note="My principal does not know yet")
    Quote.objects.create(workshop=order.workshop, contact_name="Ana Diaz", contact_email=ANA, organisation="Lincoln",
                         seat_count=5, unit_price_cents=10000, tier_min_seats=5, subtotal_cents=50000, total_cents=50000,
                         valid_until=order.created_at)
    SeatAlert.objects.create(workshop=order.workshop, email=ANA)
    OutboundEmail.objects.create(key="k1", to_address=ANA, subject="Your seat", body="Hello Ana, your link ...")
    return {"order": order, "seat": seat, "certificate": certificate, "entry": entry}


def _erase(client, email=ANA, reason="Request by email"):
    preview = client.post("/admin/staff/erasure/add/", {"email": email, "reason": reason})
    assert preview.status_code == 200
    html = preview.content.decode()
    return html, client.post("/admin/staff/erasure/add/", {"email": email, "reason": reason, "confirmed": "True"})


def test_an_administrator_erases_a_person_and_the_money_records_stay(role_client, ana_everywhere):
    admin = role_client("Administrator")
    order, seat, entry = ana_everywhere["order"], ana_everywhere["seat"], ana_everywhere["entry"]
    old_seat_token, old_entry_token = seat.token, entry.token
    preview, response = _erase(admin)
    assert "is on 1 order(s), 1 seat(s), 1 waitlist entry and 2 quote(s) or seat alert(s)" in preview
    assert response.status_code == 302

    order.refresh_from_db()
    assert (order.buyer_name, order.total_cents, order.status) == ("[erased]", 24000, Order.Status.PAID)
    assert order.buyer_email.endswith("@erased.invalid") and order.stripe_payment_intent_id
    assert Refund.objects.get().amount_cents == 500
    seat.refresh_from_db()
    assert (seat.attendee_name, seat.attendee_email, seat.access_note, seat.needs_interpreter) == ("", "", "", False)
    assert order.seats.get(position=2).attendee_name == "Ben Okafor"  # someone else, untouched
    entry.refresh_from_db()
    assert (entry.name, entry.note, entry.status) == ("[erased]", "", "withdrawn")
    assert not WaitlistEntry.objects.filter(email__iexact=ANA).exists()
    assert Quote.objects.get().contact_email.endswith("@erased.invalid")
    assert not SeatAlert.objects.exists() and not OutboundEmail.objects.filter(to_address__iexact=ANA).exists()
    certificate = Certificate.objects.get()
    assert certificate.is_revoked and certificate.attendee_name == "[erased]"

    visitor = Client()
    assert visitor.get(f"/seats/{old_seat_token}/").status_code == 404
    assert visitor.get(f"/cohorts/waitlist/{old_entry_token}/").status_code == 404
    erasure = Erasure.objects.get()
    assert (erasure.erased_by, erasure.orders, erasure.seats, erasure.waitlist_entries) == (admin.user, 1, 1, 1)
    assert ANA not in str(vars(erasure)).lower()


def test_erasing_blanks_the_person_in_the_audit_trail_too(role_client, ana_everywhere):
    seat = ana_everywhere["seat"]
    role_client("Coordinator").post(f"/admin/registrations/seat/{seat.pk}/change/", {"access_note": "Captions too"})
    before = LogEntry.objects.get(object_pk=str(seat.pk), content_type__model="seat")
    assert before.changes["access_note"] == ["ASL interpreter", "Captions too"]
    _erase(role_client("Administrator"))
    after = LogEntry.objects.get(pk=before.pk)
    assert after.changes["access_note"] == ["[erased]", "[erased]"] and after.object_repr == "[erased]"
    assert "ASL" not in str(LogEntry.objects.values_list("changes", "object_repr"))
    assert "Ana Diaz" not in str(LogEntry.objects.values_list("changes", "object_repr"))


def test_no_email_goes_to_an_erased_address(role_client, ana_everywhere):
    _erase(role_client("Administrator"))
    mail.outbox.clear()
    order = ana_everywhere["order"]
    admin = role_client("Administrator", username="second-admin")
    admin.post("/admin/registrations/order/", {"action": "resend_confirmation", "_selected_action": [order.pk]})
    assert not OutboundEmail.objects.filter(to_address__endswith="@erased.invalid").exists()


@pytest.mark.parametrize("role", ["Coordinator", "Finance", "Facilitator"])
def test_only_an_administrator_may_erase(role_client, ana_everywhere, role):
    client = role_client(role)
    assert client.get("/admin/staff/erasure/add/").status_code == 403
    assert client.post("/admin/staff/erasure/add/", {"email": ANA, "reason": "x", "confirmed": "True"}).status_code == 403
    assert Order.objects.get().buyer_name == "Ana Diaz"


def test_the_preview_changes_nothing(role_client, ana_everywhere):
    role_client("Administrator").post("/admin/staff/erasure/add/", {"email": ANA, "reason": "Request"})
    assert Order.objects.get().buyer_name == "Ana Diaz" and not Erasure.objects.exists()


def test_stripe_event_payloads_of_the_persons_orders_lose_their_details(role_client, ana_everywhere):
    from registrations.models import StripeEvent

    order = ana_everywhere["order"]
    StripeEvent.objects.create(
        event_id="evt_1", type="checkout.session.completed", order=order,
        payload={"data": {"object": {"amount_total": 24000, "customer_email": "Ana@School.example",
                                     "customer_details": {"email": "Ana@School.example", "name": "Ana Diaz",
                                                          "address": {"line1": "1 Elm St"}},
                                     "metadata": {"note": "ana diaz"}}}},
    )
    _erase(role_client("Administrator"))
    payload = StripeEvent.objects.get().payload["data"]["object"]
    assert payload["amount_total"] == 24000
    assert payload["customer_email"] == payload["customer_details"] == payload["metadata"]["note"] == "[erased]"


def test_erasing_deletes_the_persons_affinity_choice(role_client, ana_everywhere):
    from registrations.models import AffinityChoice
    from tests.registrations.affinity_helpers import add_groups, choose

    groups = add_groups(ana_everywhere["order"].workshop)
    choose(ana_everywhere["seat"], groups["Black"], zoom_email="ana.zoom@school.example")
    ben = ana_everywhere["order"].seats.get(position=2)
    choose(ben, groups["White"])
    _erase(role_client("Administrator"))
    assert list(AffinityChoice.objects.values_list("seat_id", flat=True)) == [ben.pk]


def test_erasing_forgets_the_persons_time_zones(role_client, ana_everywhere):
    order, seat = ana_everywhere["order"], ana_everywhere["seat"]
    Order.objects.filter(pk=order.pk).update(time_zone="America/New_York")
    Seat.objects.filter(pk=seat.pk).update(time_zone="America/Chicago")
    _erase(role_client("Administrator"))
    order.refresh_from_db()
    seat.refresh_from_db()
    assert (order.time_zone, seat.time_zone) == ("", "")


def test_erasing_forgets_the_hashed_network_of_the_persons_checkouts(role_client, ana_everywhere):
    order = ana_everywhere["order"]
    Order.objects.filter(pk=order.pk).update(hold_source="0123456789abcdef0123456789abcdef")
    _erase(role_client("Administrator"))
    order.refresh_from_db()
    assert order.hold_source == ""
