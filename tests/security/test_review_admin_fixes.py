"""Review fixes: admin actions need the change (or add) permission, seat holders change only through the
service that reissues their link, dates render in the workshop's zone, malformed waitlist tokens are a 404."""

import pytest
from django.contrib.auth.models import Permission

from cohorts.models import WaitlistEntry
from cohorts.selectors import entry_for_token
from registrations.models import (
    Attendance,
    Certificate,
    Order,
    OutboundEmail,
    Refund,
    Seat,
    Voucher,
)
from tests.cohorts.factories import WaitlistEntryFactory
from tests.factories import OrderFactory, WorkshopFactory, complete_seat, pacific
from tests.registrations.helpers import refund_whole_orders
from workshops.models import Workshop

pytestmark = pytest.mark.django_db

ORDERS = "/admin/registrations/order/"
SEATS = "/admin/registrations/seat/"
ROSTER = "/admin/registrations/rosterseat/"
VOUCHERS = "/admin/registrations/voucher/"
WAITLIST = "/admin/cohorts/waitlistentry/"
WORKSHOPS = "/admin/workshops/workshop/"


@pytest.fixture
def staff_with(client, django_user_model):
    """Log in a staff user (not a superuser) holding exactly the given permission codenames."""

    def login(*codenames: str):
        user = django_user_model.objects.create_user("clerk", "clerk@example.org", "pw", is_staff=True)
        permissions = Permission.objects.filter(codename__in=codenames)
        assert permissions.count() == len(codenames)
        user.user_permissions.set(permissions)
        client.force_login(user)
        return client

    return login


def run_action(client, url, action, objects, **extra):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **extra}, follow=True)


def refused(response, action: str) -> bool:
    """Django leaves out actions the user may not run: posting one is ignored ("No action selected.",
    or just the changelist again when no action is left), and the page does not offer it."""
    return response.status_code == 403 or (
        response.status_code == 200 and f'<option value="{action}"' not in response.content.decode()
    )


# --- 1. actions that change state need the change permission ---------------------------------------


def test_view_only_staff_cannot_refund_a_whole_order(staff_with, stripe_double):
    order = OrderFactory(seat_count=2)
    response = run_action(staff_with("view_order"), ORDERS, "refund_whole_order", [order], post="yes")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.refunded_seat_count == 0
    assert not Refund.objects.exists()
    assert not order.seats.exclude(status=Seat.Status.ACTIVE).exists()
    assert not stripe_double.requests_to("POST", "/v1/refunds")
    assert refused(response, "refund_whole_order")



def test_staff_with_the_refund_permission_can_refund_a_whole_order(staff_with, stripe_double):
    order = OrderFactory(seat_count=2)
    refund_whole_orders(staff_with("view_order", "change_order", "refund_order"), [order])
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert stripe_double.requests_to("POST", "/v1/refunds")


def test_view_only_staff_cannot_resend_order_confirmations(staff_with):
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    response = run_action(staff_with("view_order"), ORDERS, "resend_confirmation", [order])
    assert not OutboundEmail.objects.exists()
    assert refused(response, "resend_confirmation")



def test_view_only_staff_cannot_mark_an_invoice_paid_out_of_band(staff_with, stripe_double):
    order = OrderFactory(status=Order.Status.PENDING, payment_method=Order.PaymentMethod.INVOICE)
    response = run_action(staff_with("view_order"), ORDERS, "mark_invoice_paid_out_of_band", [order])
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and not order.invoice_paid_out_of_band
    assert not stripe_double.requests
    assert refused(response, "mark_invoice_paid_out_of_band")



@pytest.mark.parametrize("url, codename", [(SEATS, "view_seat"), (ROSTER, "view_rosterseat")])
def test_view_only_staff_cannot_resend_welcome_emails(staff_with, url, codename):
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    response = run_action(staff_with(codename), url, "resend_welcome", order.seats.all())
    assert not OutboundEmail.objects.exists()
    assert not order.seats.filter(welcome_sent_at__isnull=False).exists()
    assert refused(response, "resend_welcome")



@pytest.mark.parametrize("url, codename", [(SEATS, "view_seat"), (ROSTER, "view_rosterseat")])
def test_view_only_staff_cannot_refund_selected_seats(staff_with, stripe_double, url, codename):
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    response = run_action(staff_with(codename), url, "refund_selected_seats", order.seats.all()[:1], post="yes")
    assert not Refund.objects.exists()
    assert not order.seats.exclude(status=Seat.Status.ACTIVE).exists()
    assert not stripe_double.requests_to("POST", "/v1/refunds")
    assert refused(response, "refund_selected_seats")



def test_view_only_staff_cannot_mark_attendance(staff_with):
    order = OrderFactory(seat_count=1, seats=["Ana Diaz"])
    response = run_action(staff_with("view_rosterseat"), ROSTER, "mark_session_1", order.seats.all())
    assert not Attendance.objects.exists()
    assert refused(response, "mark_session_1")



def test_view_only_staff_cannot_issue_certificates(staff_with):
    order = OrderFactory(seat_count=1, seats=["Ana Diaz"])
    complete_seat(order.seats.get())
    response = run_action(staff_with("view_rosterseat"), ROSTER, "issue_certificates", order.seats.all())
    assert not Certificate.objects.exists()
    assert refused(response, "issue_certificates")



def test_view_only_staff_cannot_deactivate_codes(staff_with):
    voucher = Voucher.objects.create(code="EQUITY50", kind="percent", percent_off=50)
    response = run_action(staff_with("view_voucher"), VOUCHERS, "deactivate", [voucher])
    voucher.refresh_from_db()
    assert voucher.is_active
    assert refused(response, "deactivate")



def test_view_only_staff_can_still_export_codes(staff_with):
    voucher = Voucher.objects.create(code="EQUITY50", kind="percent", percent_off=50)
    response = staff_with("view_voucher").post(VOUCHERS, {"action": "export_csv", "_selected_action": [voucher.pk]})
    assert response.status_code == 200
    assert "EQUITY50" in response.content.decode("utf-8-sig")


def test_view_only_staff_cannot_generate_codes(staff_with):
    response = staff_with("view_voucher").post(f"{VOUCHERS}generate/", {"count": 5, "prefix": "SCHOL", "label": "x"})
    assert response.status_code == 403
    assert not Voucher.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["invite", "resend_invitation"])
def test_view_only_staff_cannot_invite_from_the_waitlist(staff_with, action):
    waiting = WaitlistEntryFactory()
    invited = WaitlistEntryFactory(cohort=waiting.cohort, status=WaitlistEntry.Status.INVITED)
    response = run_action(staff_with("view_waitlistentry"), WAITLIST, action, [waiting, invited])
    waiting.refresh_from_db()
    assert waiting.status == WaitlistEntry.Status.WAITING and waiting.invited_at is None
    assert not OutboundEmail.objects.exists()
    assert refused(response, action)



@pytest.mark.django_db(transaction=True)
def test_view_only_staff_cannot_mark_entries_enrolled(staff_with):
    entry = WaitlistEntryFactory(status=WaitlistEntry.Status.INVITED, order_token=OrderFactory().token)
    response = run_action(staff_with("view_waitlistentry"), WAITLIST, "mark_paid_enrolled", [entry])
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.INVITED
    assert not entry.status_changes.exists()
    assert refused(response, "mark_paid_enrolled")



def test_staff_without_add_permission_cannot_duplicate_a_workshop(staff_with):
    workshop = WorkshopFactory()
    response = run_action(staff_with("view_workshop", "change_workshop"), WORKSHOPS, "duplicate_for_next_year", [workshop])
    assert list(Workshop.objects.all()) == [workshop]
    assert refused(response, "duplicate_for_next_year")



def test_staff_with_add_permission_can_duplicate_a_workshop(staff_with):
    workshop = WorkshopFactory()
    run_action(staff_with("view_workshop", "add_workshop"), WORKSHOPS, "duplicate_for_next_year", [workshop])
    assert Workshop.objects.exclude(pk=workshop.pk).count() == 1


# --- 3. dates in the workshop's and cohort's zone, not UTC -----------------------------------------

# 6 pm Pacific on March 1 is 2 am UTC on March 2.
OPENS = pacific(2030, 3, 1, 18)


@pytest.mark.parametrize("page", ["/workshops/{slug}/", "/workshops/{slug}/register/"])
def test_registration_opening_date_is_shown_in_the_workshops_zone(client, page):
    workshop = WorkshopFactory(registration_opens_at=OPENS)
    content = client.get(page.format(slug=workshop.slug)).content.decode()
    assert "March 1, 2030, 6:00 PM PST" in content
    assert "March 2, 2030" not in content


def test_waitlist_invitation_shows_the_confirmation_date_in_the_cohorts_zone(client):
    entry = WaitlistEntryFactory(status=WaitlistEntry.Status.INVITED, seat_confirmed_at=OPENS)
    content = client.get(entry.get_invitation_url()).content.decode()
    assert "You confirmed your seat on March 1, 2030" in content
    assert "March 2, 2030" not in content


# --- 4. malformed waitlist tokens ------------------------------------------------------------------


@pytest.mark.parametrize("token", ["%00", "a" * 5000, "%00" + "a" * 40])
@pytest.mark.parametrize("suffix", ["", "invitation/"])
def test_malformed_waitlist_token_is_not_found(client, token, suffix):
    WaitlistEntryFactory()
    assert client.get(f"/cohorts/waitlist/{token}/{suffix}").status_code == 404


@pytest.mark.parametrize("token", ["\x00", "a" * 5000, "short", "../" + "a" * 40, ""])
def test_malformed_waitlist_token_never_reaches_the_database(django_assert_num_queries, token):
    with django_assert_num_queries(0), pytest.raises(WaitlistEntry.DoesNotExist):
        entry_for_token(token)


def test_well_formed_waitlist_token_still_finds_its_entry():
    entry = WaitlistEntryFactory()
    assert entry_for_token(entry.token) == entry


# --- 5. attendee identity is not edited in admin ---------------------------------------------------


def _change_form_data(response) -> dict:
    """The change form as the browser would post it back, inlines included."""
    forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += list(formset.forms)
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value not in (None, False):
                data[form.add_prefix(name)] = value
    return data


def test_seat_admin_does_not_change_the_attendee(staff_client):
    order = OrderFactory(seat_count=1, seats=["Ana Diaz"])
    seat = order.seats.get()
    url = f"{SEATS}{seat.pk}/change/"
    page = staff_client.get(url)
    data = {**_change_form_data(page), "attendee_name": "Mallory", "attendee_email": "mallory@elsewhere.example"}
    data["access_note"] = "Large print"
    response = staff_client.post(url, data)
    assert response.status_code == 302
    after = Seat.objects.get(pk=seat.pk)
    assert (after.attendee_name, after.attendee_email, after.token) == ("Ana Diaz", "ana@school.example", seat.token)
    assert after.access_note == "Large print"
    assert order.get_absolute_url() in page.content.decode()  # where staff go instead


def test_order_admin_does_not_change_seat_attendees(staff_client):
    order = OrderFactory(seat_count=2, seats=["Ana Diaz", "Ben Okafor"])
    seat = order.seats.get(position=1)
    url = f"{ORDERS}{order.pk}/change/"
    page = staff_client.get(url)
    data = _change_form_data(page)
    prefix = next(k for k, v in data.items() if k.endswith("-id") and str(v) == str(seat.pk))[: -len("id")]
    data.update({f"{prefix}attendee_name": "Mallory", f"{prefix}attendee_email": "mallory@elsewhere.example"})
    data["staff_note"] = "Checked"
    response = staff_client.post(url, data)
    assert response.status_code == 302
    after = Seat.objects.get(pk=seat.pk)
    assert (after.attendee_name, after.attendee_email, after.token) == ("Ana Diaz", "ana@school.example", seat.token)
    order.refresh_from_db()
    assert order.staff_note == "Checked"
    assert order.get_absolute_url() in page.content.decode()  # where staff go instead


def test_staff_without_order_permissions_cannot_see_the_dashboard(client, django_user_model):
    user = django_user_model.objects.create_user("nosy", "nosy@example.org", "pw", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/registrations/workshopdashboard/").status_code == 403
