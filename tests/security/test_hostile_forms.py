"""Property-based tests for the forms behind a token or on the cohort page: never a 500, never
a partial write, and accepted text is stored as typed (trimmed) and shown back escaped."""

from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from cohorts.models import WaitlistEntry
from registrations.models import Order
from tests.cohorts.factories import CohortFactory
from tests.factories import OrderFactory

any_text = st.one_of(
    st.text(max_size=300),
    st.builds(lambda ch, n: ch * n, st.characters(codec="utf-8"), st.integers(min_value=90_000, max_value=100_000)),
)
numbers = st.one_of(st.integers(min_value=-(10**30), max_value=10**30).map(str), st.floats().map(str), any_text)
emails = st.one_of(st.emails(), any_text)
fast = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class WaitlistJoinProperties(TestCase):
    def setUp(self):
        self.cohort = CohortFactory()

    @fast
    @given(name=any_text, email=emails, role=any_text, organisation=any_text, kind=any_text, team_size=numbers,
           note=any_text)
    def test_join_never_errors_and_keeps_what_was_accepted(self, name, email, role, organisation, kind, team_size, note):
        data = {"name": name, "email": email, "role": role, "organisation": organisation, "kind": kind,
                "team_size": team_size, "note": note}
        response = self.client.post(self.cohort.get_absolute_url(), data)
        self.assertIn(response.status_code, (302, 400))
        entries = list(WaitlistEntry.objects.all())
        if response.status_code == 302:
            (entry,) = entries
            self.assertEqual(entry.name, name.strip())
            page = self.client.get(entry.get_absolute_url())
            self.assertContains(page, escape(entry.name))
        else:
            self.assertEqual(entries, [])


class OrderPageFormProperties(TestCase):
    def setUp(self):
        self.order = OrderFactory(seat_count=3)

    @fast
    @given(name=any_text, email=emails, change=any_text, position=st.one_of(st.sampled_from([1, 2, 3]), st.integers(min_value=-5, max_value=10**12)))
    def test_seat_naming_never_errors(self, name, email, change, position):
        url = f"/orders/{self.order.token}/seats/{position}/"
        prefix = f"seat-{position}"
        response = self.client.post(url, {f"{prefix}-name": name, f"{prefix}-email": email, f"{prefix}-change": change})
        self.assertIn(response.status_code, (302, 400, 404))
        seats = {s.position: s for s in self.order.seats.all()}
        if response.status_code == 302:
            self.assertEqual(seats[position].attendee_name, name.strip())
            page = self.client.get(f"/orders/{self.order.token}/")
            self.assertContains(page, escape(name.strip()))
        else:
            self.assertTrue(all(not s.attendee_name for s in seats.values()))

    @fast
    @given(po=any_text)
    def test_po_number_never_errors_and_is_shown_escaped(self, po):
        response = self.client.post(f"/orders/{self.order.token}/po-number/", {"po_number": po})
        self.assertIn(response.status_code, (302, 400))
        self.order.refresh_from_db()
        if response.status_code == 302:
            self.assertEqual(self.order.po_number, po.strip())
            if po.strip():
                self.assertContains(self.client.get(f"/orders/{self.order.token}/"), escape(po.strip()))
        else:
            self.assertEqual(self.order.po_number, "")

    @fast
    @given(extra=numbers, method=any_text, billing_name=any_text, billing_email=emails)
    def test_adding_seats_never_errors_or_half_writes(self, extra, method, billing_name, billing_email):
        response = self.client.post(
            f"/orders/{self.order.token}/add-seats/",
            {"grow-extra_seats": extra, "grow-payment_method": method, "grow-billing_name": billing_name,
             "grow-billing_email": billing_email},
        )
        self.assertIn(response.status_code, (302, 400))
        additions = Order.objects.filter(parent=self.order)
        if response.status_code == 400:
            self.assertFalse(additions.exists())
        additions.delete()


class SeatTimeZoneProperties(TestCase):
    def setUp(self):
        self.seat = OrderFactory(seat_count=1, seats=["Ana Diaz"]).seats.get()

    @fast
    @given(zone=st.one_of(any_text, st.sampled_from(["America/New_York", "Asia/Tokyo", "UTC", "", "Factory", "localtime"])))
    def test_choosing_a_time_zone_never_errors_and_stores_only_real_zones(self, zone):
        import zoneinfo

        response = self.client.post(f"/seats/{self.seat.token}/time-zone/", {"time_zone": zone})
        self.assertIn(response.status_code, (302, 400))
        self.seat.refresh_from_db()
        if response.status_code == 302:
            self.assertEqual(self.seat.time_zone, zone.strip())
            self.assertTrue(self.seat.time_zone == "" or self.seat.time_zone in zoneinfo.available_timezones())
        self.assertEqual(self.client.get(f"/seats/{self.seat.token}/").status_code, 200)
