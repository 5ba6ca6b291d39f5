"""Navigation by task: sections staff recognise, technical screens only under System, and only for those allowed."""

import re

import pytest
from django.contrib.auth.models import Permission

from registrations.models import Order
from staff.navigation import sections_for
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def nav(html: str) -> list[str]:
    block = html[html.index('<nav class="task-nav"'):]
    return re.findall(r">([^<]+)</a></li>", block[: block.index("</nav>")])


def section_screens(client, slug: str) -> list[str]:
    html = client.get(f"/admin/section/{slug}/").content.decode()
    return re.findall(r'<th scope="row" id="[^"]+">\s*<a href="[^"]+"[^>]*>([^<]+)</a>', html)


def test_the_sections_are_named_for_tasks_in_the_order_staff_work(staff_client):
    assert nav(staff_client.get("/admin/").content.decode()) == [
        "Home", "Run the workshop", "Money", "Year-long course", "People and privacy", "System",
    ]


def test_the_home_page_lists_every_screen_by_task_below_the_figures(staff_client):
    html = staff_client.get("/admin/").content.decode()
    screens = html[html.index('id="screens-heading"'):]
    assert screens.index("Run the workshop") < screens.index("Money") < screens.index("System")
    assert "Roster and attendance" in screens and "Email previews" in screens


def test_each_section_lists_its_screens_with_names_staff_know(staff_client):
    assert section_screens(staff_client, "run")[:3] == ["Roster and attendance", "Workshops", "Sessions"]
    assert "Email previews" in section_screens(staff_client, "run")
    assert section_screens(staff_client, "money")[:3] == ["Orders", "Payments received (the ledger)", "Refunds"]
    assert "Discount and scholarship codes" in section_screens(staff_client, "money")
    assert section_screens(staff_client, "course")[0] == "Waitlist"


def test_technical_records_are_only_under_system(staff_client):
    technical = {"Stripe events received", "Email outbox", "Reminders sent", "Background tasks"}
    assert technical <= set(section_screens(staff_client, "system"))
    for slug in ("run", "money", "course"):
        assert not technical & set(section_screens(staff_client, slug))


def test_system_is_hidden_from_staff_without_permissions_on_its_records(client, django_user_model):
    coordinator = django_user_model.objects.create_user("coord", "c@example.org", "pw", is_staff=True)
    coordinator.user_permissions.set(Permission.objects.filter(
        codename__in=["view_rosterseat", "change_rosterseat", "view_workshop", "change_workshop", "view_waitlistentry"]
    ))
    client.force_login(coordinator)
    html = client.get("/admin/").content.decode()
    assert nav(html) == ["Home", "Run the workshop", "Year-long course"]
    assert client.get("/admin/section/system/").status_code == 404
    assert client.get("/admin/section/money/").status_code == 404
    assert "Stripe" not in html and "outbox" not in html.lower()


def test_breadcrumbs_name_the_section_not_the_django_app(staff_client):
    order = OrderFactory()
    html = staff_client.get(f"/admin/registrations/order/{order.pk}/change/").content.decode()
    crumbs = html[html.index('<div class="breadcrumbs">'):]
    crumbs = crumbs[: crumbs.index("</div>")]
    assert '<a href="/admin/section/money/">Money</a>' in crumbs and "Registrations" not in crumbs
    listing = staff_client.get("/admin/registrations/rosterseat/").content.decode()
    assert '<a href="/admin/section/run/">Run the workshop</a>' in listing
    assert "<h1>Roster and attendance</h1>" in listing


def test_an_unknown_section_is_not_found(staff_client):
    assert staff_client.get("/admin/section/nowhere/").status_code == 404


def test_a_screen_no_section_names_is_listed_under_more_not_lost():
    class Meta:
        model_name = "somethingnew"

    class Model:
        _meta = Meta

    app_dict = {"registrations": {"app_label": "registrations", "models": [
        {"model": Model, "name": "Something new", "admin_url": "/x/"},
        {"model": Order, "name": "Orders", "admin_url": "/o/"},
    ]}}
    sections = {s["name"]: [m["name"] for m in s["models"]] for s in sections_for(app_dict)}
    assert sections == {"Money": ["Orders"], "More": ["Something new"]}


def test_an_apps_own_page_groups_its_screens_by_section_too(staff_client):
    html = staff_client.get("/admin/registrations/").content.decode()
    assert "Run the workshop" in html and "Money" in html and "Roster and attendance" in html
    assert "Courses" not in html  # another app's screens stay out


def test_the_coordinator_role_never_sees_the_system_section(role_client):
    coordinator = role_client("Coordinator")
    assert "System" not in nav(coordinator.get("/admin/").content.decode())
    assert coordinator.get("/admin/section/system/").status_code == 404
    assert "Attendance (records)" in section_screens(coordinator, "run")
    assert "Waitlist status history" in section_screens(coordinator, "course")


def test_the_facilitator_role_never_sees_the_system_section(role_client):
    facilitator = role_client("Facilitator")
    assert "System" not in nav(facilitator.get("/admin/").content.decode())
    assert facilitator.get("/admin/section/system/").status_code == 404


def test_finance_sees_only_the_stripe_events_under_system(role_client):
    assert section_screens(role_client("Finance"), "system") == ["Stripe events received"]


def test_a_coordinator_editing_a_course_is_not_offered_the_orders_they_may_not_open(role_client):
    from tests.cohorts.factories import CohortFactory

    cohort = CohortFactory()
    html = role_client("Coordinator").get(f"/admin/cohorts/cohort/{cohort.pk}/change/").content.decode()
    assert "Orders for course seats" not in html
    assert "Orders for course seats" in role_client("Administrator").get(f"/admin/cohorts/cohort/{cohort.pk}/change/").content.decode()
