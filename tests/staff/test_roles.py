"""Staff roles: each group holds only what it needs; a test per role of what it can and cannot open or do."""

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone

from cohorts.models import WaitlistEntry
from registrations.admin.actions import refund_selected_seats
from registrations.models import Attendance, Order, Refund, RosterSeat, Seat
from staff.roles import ALL_PERMISSIONS, ROLES
from tests.cohorts.factories import WaitlistEntryFactory
from tests.factories import OrderFactory, WorkshopFactory
from tests.registrations.helpers import refund_whole_orders

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"
ORDERS = "/admin/registrations/order/"
SEATS = "/admin/registrations/seat/"
ROSTER = "/admin/registrations/rosterseat/"
NEEDS = "Needs an ASL interpreter"


def _names(permissions) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions.select_related("content_type")}


def test_the_roles_in_the_database_are_exactly_the_documented_ones():
    for role, permissions in ROLES.items():
        held = _names(Group.objects.get(name=role).permissions.all())
        expected = _names(Permission.objects.all()) if permissions == ALL_PERMISSIONS else set(permissions)
        assert held == expected, role


@pytest.fixture
def team_order():
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    Seat.objects.filter(order=order, position=1).update(needs_interpreter=True, access_note=NEEDS)
    return order


def _action(client, url, action, objects, **extra):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **extra}, follow=True)


def _status(client, url) -> int:
    return client.get(url).status_code


def test_finding_6_roster_permissions_alone_cannot_refund(client, django_user_model, team_order, stripe_double):
    """Finding 6: the roster's and seats' change permission no longer lets anyone refund through Stripe."""
    user = django_user_model.objects.create_user("roster-only", "r@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        codename__in=["view_rosterseat", "change_rosterseat", "view_seat", "change_seat"]
    ))
    client.force_login(user)
    for url in (ROSTER, SEATS):
        page = _action(client, url, "refund_selected_seats", team_order.seats.all()[:1], post="yes")
        assert 'value="refund_selected_seats"' not in page.content.decode()
    assert not Refund.objects.exists()
    assert not stripe_double.requests_to("POST", "/v1/refunds")
    # Checked inside the action too, whoever calls it.
    request = RequestFactory().post(ROSTER, {"post": "yes"})
    request.user = user
    with pytest.raises(PermissionDenied):
        refund_selected_seats(site._registry[RosterSeat], request, Seat.objects.filter(order=team_order))


def test_coordinator_runs_workshops_the_roster_and_the_waitlist_but_no_money(role_client, team_order, stripe_double):
    client = role_client("Coordinator")
    entry = WaitlistEntryFactory()
    seat = team_order.seats.get(position=1)
    for url in ("/admin/workshops/workshop/", ROSTER, "/admin/cohorts/waitlistentry/", f"/admin/cohorts/waitlistentry/{entry.pk}/change/"):
        assert _status(client, url) == 200, url
    assert NEEDS in client.get(f"{SEATS}{seat.pk}/change/").content.decode()
    assert NEEDS in client.get(ROSTER).content.decode()
    # Attendance can be marked once a session has started: the first one is under way.
    first = team_order.workshop.sessions.order_by("starts_at").first()
    first.starts_at, first.ends_at = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(hours=1)
    first.save()
    _action(client, ROSTER, "mark_session_1", [seat])
    assert Attendance.objects.filter(seat=seat).exists()
    for url in (ORDERS, "/admin/registrations/refund/", "/admin/registrations/voucher/", "/admin/auditlog/logentry/",
                "/admin/staff/erasure/add/", "/admin/registrations/outboundemail/", "/admin/auth/user/"):
        assert _status(client, url) == 403, url
    page = _action(client, ROSTER, "refund_selected_seats", [seat], post="yes").content.decode()
    assert 'value="refund_selected_seats"' not in page
    assert not Refund.objects.exists()


def test_finance_handles_orders_refunds_and_codes_but_never_sees_access_needs(role_client, team_order, stripe_double):
    client = role_client("Finance")
    seat = team_order.seats.get(position=1)
    for url in (ORDERS, f"{ORDERS}{team_order.pk}/change/", "/admin/registrations/refund/", "/admin/registrations/voucher/",
                "/admin/registrations/quote/", "/admin/registrations/workshopdashboard/", SEATS):
        assert _status(client, url) == 200, url
    for url in (f"{ORDERS}{team_order.pk}/change/", SEATS, f"{SEATS}{seat.pk}/change/"):
        html = client.get(url).content.decode()
        assert NEEDS not in html and "access_note" not in html, url
    for url in (ROSTER, "/admin/workshops/workshop/", "/admin/cohorts/waitlistentry/", "/admin/auditlog/logentry/",
                "/admin/staff/erasure/add/", "/admin/auth/user/"):
        assert _status(client, url) == 403, url
    refund_whole_orders(client, [team_order])
    team_order.refresh_from_db()
    assert team_order.status == Order.Status.REFUNDED
    assert stripe_double.requests_to("POST", "/v1/refunds")


def test_facilitator_reads_only_their_workshops_roster_with_access_needs(role_client, team_order):
    client = role_client("Facilitator")
    team_order.workshop.facilitators.add(client.user)
    other = OrderFactory(workshop=WorkshopFactory(), seats=["Someone Elsewhere"])
    html = client.get(ROSTER).content.decode()
    assert "Ana Diaz" in html and NEEDS in html
    assert "Someone Elsewhere" not in html
    assert 'name="action"' not in html  # read-only: no actions at all
    assert f"{SEATS}{team_order.seats.get(position=1).pk}/change/" not in html and ORDERS not in html
    _action(client, ROSTER, "mark_session_1", team_order.seats.all())
    assert not Attendance.objects.exists()
    for url in (SEATS, ORDERS, f"{SEATS}{other.seats.get().pk}/change/", "/admin/cohorts/waitlistentry/",
                "/admin/workshops/workshop/", "/admin/registrations/workshopdashboard/", "/admin/auditlog/logentry/"):
        assert _status(client, url) == 403, url


def test_a_facilitator_assigned_to_nothing_sees_an_empty_roster(role_client, team_order):
    client = role_client("Facilitator")
    html = client.get(ROSTER).content.decode()
    assert "Ana Diaz" not in html


def test_administrator_can_open_everything_including_the_audit_trail_and_erasure(role_client, team_order, stripe_double):
    client = role_client("Administrator")
    for url in (ORDERS, ROSTER, SEATS, "/admin/auditlog/logentry/", "/admin/staff/erasure/", "/admin/staff/erasure/add/",
                "/admin/auth/user/", "/admin/auth/group/", "/admin/registrations/outboundemail/",
                "/admin/cohorts/waitlistentry/", "/admin/workshops/workshop/"):
        assert _status(client, url) == 200, url
    _action(client, SEATS, "refund_selected_seats", team_order.seats.all()[:1], post="yes")
    assert Refund.objects.count() == 1


def test_administrator_also_holds_permissions_created_after_its_migration(django_user_model):
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    new = Permission.objects.create(
        codename="view_something_new", name="Can view something new",
        content_type=ContentType.objects.get_for_model(WaitlistEntry),
    )
    call_command("migrate", verbosity=0)  # post_migrate tops the Administrator up
    assert new in Group.objects.get(name="Administrator").permissions.all()


def test_a_facilitator_of_an_affinity_group_reads_that_workshops_roster_without_other_groups(role_client, team_order):
    from tests.registrations.affinity_helpers import add_groups, choose, facilitate

    client = role_client("Facilitator")
    groups = add_groups(team_order.workshop)
    facilitate(client.user, groups["Black"])
    ana, ben = team_order.seats.order_by("position")
    choose(ana, groups["Black"])
    choose(ben, groups["White"])
    html = client.get(ROSTER).content.decode()
    assert "Ana Diaz" in html and NEEDS in html
    # Who chose which group is for that group's own rooms screen, not the roster.
    assert "Affinity group" not in html and "White" not in html
    assert client.get("/admin/registrations/breakoutplan/").status_code == 200


def test_a_coordinator_sees_each_attendees_affinity_group_on_the_roster(role_client, team_order):
    from tests.registrations.affinity_helpers import add_groups, choose

    groups = add_groups(team_order.workshop)
    choose(team_order.seats.get(position=1), groups["Multiracial"])
    html = role_client("Coordinator").get(ROSTER).content.decode()
    assert "Affinity group" in html and "Multiracial" in html
    assert "Multiracial" not in role_client("Finance").get(SEATS).content.decode()
