"""The audit trail: every staff change to money or personal data, with who, when, what and before/after."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from registrations.models import Order, Refund, Seat
from tests.cohorts.factories import WaitlistEntryFactory
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import refund_whole_orders, registration_data

pytestmark = pytest.mark.django_db


def _entries(obj):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))


def test_a_staff_edit_of_access_needs_is_recorded_with_who_when_and_before_after(role_client):
    client = role_client("Coordinator")
    seat = OrderFactory(seats=["Ana Diaz"]).seats.get()
    response = client.post(f"/admin/registrations/seat/{seat.pk}/change/", {"needs_captions": "on", "access_note": "Captions"})
    assert response.status_code == 302
    [entry] = _entries(seat)
    assert entry.actor == client.user and entry.timestamp
    assert entry.changes["access_note"] == ["", "Captions"]
    assert entry.changes["needs_captions"] == ["False", "True"]


def test_a_refund_from_admin_is_recorded_as_the_staff_members_change(role_client, stripe_double):
    client = role_client("Finance")
    order = OrderFactory(seat_count=2)
    refund_whole_orders(client, [order])
    refund = Refund.objects.get()
    assert _entries(refund).get(action=LogEntry.Action.CREATE).actor == client.user
    change = _entries(order).filter(actor=client.user).latest("timestamp")
    assert change.changes["status"] == ["paid", "refunded"]
    assert change.changes["refunded_seat_count"] == ["0", "2"]
    # The money is in the ledger: the refund the staff member's change created holds it.
    assert _entries(refund).get(action=LogEntry.Action.CREATE).changes["amount_cents"][1] == "24000"


def test_a_staff_change_to_a_waitlist_entry_is_recorded(role_client):
    client = role_client("Coordinator")
    entry = WaitlistEntryFactory(name="Ana", team_size=1)
    page = client.get(f"/admin/cohorts/waitlistentry/{entry.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields}
    data.update(name="Ana Díaz", cohort=entry.cohort_id, joined_at_0="", status="waiting", kind="individual")
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for inline in page.context["inline_admin_formsets"]:
        data[f"{inline.formset.prefix}-TOTAL_FORMS"] = inline.formset.total_form_count()
        data[f"{inline.formset.prefix}-INITIAL_FORMS"] = inline.formset.initial_form_count()
    assert client.post(f"/admin/cohorts/waitlistentry/{entry.pk}/change/", data).status_code == 302
    [change] = [e for e in _entries(entry) if "name" in e.changes]
    assert change.changes["name"] == ["Ana", "Ana Díaz"] and change.actor == client.user


def test_giving_a_staff_member_a_role_is_recorded(role_client, django_user_model):
    from django.contrib.auth.models import Group

    admin = role_client("Administrator")
    clerk = django_user_model.objects.create_user("clerk", "c@example.org", "pw", is_staff=True)
    page = admin.get(f"/admin/auth/user/{clerk.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields if name != "password"}
    data.update(groups=[Group.objects.get(name="Finance").pk], user_permissions=[], date_joined_0="2026-01-01",
                date_joined_1="00:00:00", last_login_0="", last_login_1="", is_staff="on", is_active="on")
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    assert admin.post(f"/admin/auth/user/{clerk.pk}/change/", data).status_code == 302
    assert _entries(clerk).filter(actor=admin.user).exists()


def test_public_registrations_and_webhooks_leave_no_audit_entries(client, stripe_double, post_webhook):
    workshop = WorkshopFactory()
    client.post(f"/workshops/{workshop.slug}/register/", registration_data())
    order = Order.objects.get()
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not LogEntry.objects.filter(content_type__app_label__in=["registrations", "workshops"]).exists()


def test_the_trail_is_read_only_in_admin(role_client):
    coordinator = role_client("Coordinator", username="coord")
    seat = OrderFactory(seats=["Ana Diaz"]).seats.get()
    coordinator.post(f"/admin/registrations/seat/{seat.pk}/change/", {"access_note": "Captions"})
    entry = LogEntry.objects.get(actor__username="coord")
    admin = role_client("Administrator")
    listing = admin.get("/admin/auditlog/logentry/").content.decode()
    assert "coord" in listing
    page = admin.get(f"/admin/auditlog/logentry/{entry.pk}/change/").content.decode()
    assert "Captions" in page and 'name="_save"' not in page
    assert admin.post(f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Seat.objects.get(pk=seat.pk).access_note == "Captions"
