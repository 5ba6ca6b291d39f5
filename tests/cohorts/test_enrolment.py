"""Invited people pay for the course through the same checkout as workshops."""

import pytest
from django.core import mail

from cohorts.models import Cohort, WaitlistEntry
from registrations.models import Order
from tests.cohorts.factories import CohortFactory, WaitlistEntryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def open_cohort(staff_client, cohort, price_cents=150000, capacity=30):
    """Staff open the course with a price in admin, as they would."""
    response = staff_client.get(f"/admin/cohorts/cohort/{cohort.pk}/change/")
    form = response.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(
        # Staff type the price in dollars ("1500.00"); it is stored in cents.
        status="open", price_cents=f"{price_cents // 100}.{price_cents % 100:02d}", capacity=capacity, is_published="on",
        start_month_0=cohort.start_month.isoformat() if "start_month_0" in form.fields else None,
    )
    data = {k: v for k, v in data.items() if v is not None}
    data["start_month"] = cohort.start_month.isoformat()
    prereq = data.get("prerequisite_workshop")
    data["prerequisite_workshop"] = getattr(prereq, "pk", prereq)
    for inline in response.context["inline_admin_formsets"]:
        fs = inline.formset
        data[f"{fs.prefix}-TOTAL_FORMS"] = 0
        data[f"{fs.prefix}-INITIAL_FORMS"] = 0
    response = staff_client.post(f"/admin/cohorts/cohort/{cohort.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    cohort.refresh_from_db()
    return cohort


def invited_entry(cohort, **kwargs):
    return WaitlistEntryFactory(cohort=cohort, status=WaitlistEntry.Status.INVITED, **kwargs)


def test_opening_with_a_price_creates_an_unlisted_offering(staff_client, client):
    cohort = open_cohort(staff_client, CohortFactory())
    offering = cohort.offering
    assert offering.is_published and not offering.is_listed
    assert list(offering.price_tiers.values_list("min_seats", "unit_price_cents")) == [(1, 150000)]
    assert offering.capacity == 30
    assert client.get(f"/workshops/{offering.slug}/").status_code == 404
    assert client.get(f"/workshops/{offering.slug}/register/").status_code == 404


def test_invited_team_pays_for_its_seats_through_stripe_checkout(staff_client, client, stripe_double, post_webhook):
    cohort = open_cohort(staff_client, CohortFactory())
    entry = invited_entry(cohort, kind="team", team_size=3, email="lead@district.example")
    page = client.get(f"/cohorts/waitlist/{entry.token}/invitation/").content.decode()
    assert "3 seats × $1,500.00 = <strong>$4,500.00</strong>" in page
    response = client.post(f"/cohorts/waitlist/{entry.token}/pay/")
    order = Order.objects.get()
    assert response["Location"] == f"https://checkout.stripe.test/c/pay/{order.stripe_checkout_session_id}"
    assert (order.workshop_id, order.seat_count, order.total_cents) == (cohort.offering_id, 3, 450000)
    post_webhook("checkout.session.completed", stripe_double.pay(order.stripe_checkout_session_id))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert any(m.to == ["lead@district.example"] and "You're registered" in m.subject for m in mail.outbox)
    status_page = client.get(f"/cohorts/waitlist/{entry.token}/").content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.ENROLLED
    assert "Enrolled" in status_page
    assert entry.status_changes.filter(to_status="enrolled").exists()


def test_paying_twice_reuses_the_pending_order(staff_client, client, stripe_double):
    cohort = open_cohort(staff_client, CohortFactory())
    entry = invited_entry(cohort)
    client.post(f"/cohorts/waitlist/{entry.token}/pay/")
    client.post(f"/cohorts/waitlist/{entry.token}/pay/")
    assert Order.objects.count() == 1
    assert len(stripe_double.sessions) == 1


def test_waiting_entry_cannot_pay(staff_client, client, stripe_double):
    cohort = open_cohort(staff_client, CohortFactory())
    entry = WaitlistEntryFactory(cohort=cohort)
    response = client.post(f"/cohorts/waitlist/{entry.token}/pay/", follow=True)
    assert "Registration is by invitation" in response.content.decode()
    assert not Order.objects.exists()


def test_no_payment_before_the_course_opens(client, stripe_double):
    cohort = CohortFactory(status=Cohort.Status.COMING_SOON, price_cents=150000)
    entry = invited_entry(cohort)
    page = client.get(f"/cohorts/waitlist/{entry.token}/invitation/").content.decode()
    assert "Pay for your seat" not in page
    response = client.post(f"/cohorts/waitlist/{entry.token}/pay/", follow=True)
    assert "not open yet" in response.content.decode()
    assert not Order.objects.exists()


def test_course_capacity_is_enforced_like_workshop_seats(staff_client, client, stripe_double):
    cohort = open_cohort(staff_client, CohortFactory(), capacity=2)
    entry = invited_entry(cohort, kind="team", team_size=3)
    response = client.post(f"/cohorts/waitlist/{entry.token}/pay/", follow=True)
    assert "Only 2 seats left" in response.content.decode()
    assert not Order.objects.exists()


def test_someone_typing_an_invited_persons_email_changes_nothing(staff_client, client, stripe_double):
    from cohorts.models import WaitlistEntry as Entry

    cohort = open_cohort(staff_client, CohortFactory())
    entry = invited_entry(cohort, name="Ana Diaz", email="ana@district.example")
    response = client.post(
        cohort.get_absolute_url(),
        {"name": "Mallory", "email": "ANA@district.example", "role": "teacher", "organisation": "X",
         "kind": "team", "team_size": "9", "note": ""},
        follow=True,
    )
    assert "already been invited" not in response.content.decode()
    assert "We have emailed the link to your waitlist page to ANA@district.example" in response.content.decode()
    entry = Entry.objects.get(pk=entry.pk)
    assert (entry.name, entry.team_size, entry.status) == ("Ana Diaz", 1, "invited")
    assert entry.token not in response.content.decode()


def test_a_payment_still_clearing_blocks_a_second_order(staff_client, client, stripe_double):
    cohort = open_cohort(staff_client, CohortFactory())
    entry = invited_entry(cohort)
    client.post(f"/cohorts/waitlist/{entry.token}/pay/")
    Order.objects.update(status=Order.Status.PROCESSING)
    response = client.post(f"/cohorts/waitlist/{entry.token}/pay/", follow=True)
    assert "being processed by your bank" in response.content.decode()
    assert Order.objects.count() == 1
