"""Property-based tests: whatever people type or post, never a 500, never a partial write,
and accepted text comes back exactly as stored, escaped."""

import json
import time

import stripe
from django.test import override_settings
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from registrations.models import Order, Seat, SeatAlert, StripeEvent
from tests.factories import OrderFactory, WorkshopFactory

WEBHOOK_SECRET = "whsec_property_tests"

# Unicode including control characters and surrogate-free astral planes, up to 100 kB.
any_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.builds(lambda ch, n: ch * n, st.characters(codec="utf-8"), st.integers(min_value=90_000, max_value=100_000)),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    any_text,
)
emails = st.one_of(st.emails(), any_text)
fast = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class RegistrationFormProperties(TestCase):
    def setUp(self):
        self.workshop = WorkshopFactory(capacity=30)
        self.url = f"/workshops/{self.workshop.slug}/register/"

    @fast
    @given(
        name=any_text, email=emails, organisation=any_text, role=any_text, seats=numbers,
        attendee_name=any_text, attendee_email=emails, note=any_text, attends=st.booleans(), missing=st.sets(
            st.sampled_from(["buyer_name", "buyer_email", "organisation", "role", "seat_count", "attendees-TOTAL_FORMS"])
        ),
    )
    def test_registration_never_errors_and_writes_all_or_nothing(
        self, name, email, organisation, role, seats, attendee_name, attendee_email, note, attends, missing
    ):
        data = {
            "buyer_name": name, "buyer_email": email, "organisation": organisation, "role": role, "seat_count": seats,
            "access_note": note, "attendees-TOTAL_FORMS": "1", "attendees-INITIAL_FORMS": "0",
            "attendees-0-name": attendee_name, "attendees-0-email": attendee_email,
        }
        if attends:
            data["buyer_attends"] = "on"
        for key in missing:
            data.pop(key)
        response = self.client.post(self.url, data)
        self.assertIn(response.status_code, (200, 302, 400))
        orders = list(Order.objects.all())
        if response.status_code == 302:
            order = orders[0]
            self.assertEqual(order.buyer_name, name.strip())
            self.assertEqual(order.seats.count(), order.seat_count)
            page = self.client.get(f"/orders/{order.token}/")
            self.assertContains(page, escape(order.buyer_name))
            self.assertContains(page, escape(order.organisation))
        else:
            self.assertEqual(orders, [])
            self.assertFalse(Seat.objects.exists())

    @fast
    @given(body=st.binary(max_size=2000), content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json", "text/plain"]
    ))
    def test_registration_with_garbage_body_never_errors(self, body, content_type):
        response = self.client.generic("POST", self.url, body, content_type=content_type)
        self.assertIn(response.status_code, (200, 400))
        self.assertFalse(Order.objects.exists())

    def test_accepted_markup_is_shown_escaped(self):
        name = '<script>alert("x")</script> Ana & Co'
        self.client.post(self.url, {
            "buyer_name": name, "buyer_email": "ana@x.example", "organisation": "<b>District</b>", "role": "teacher",
            "seat_count": "1", "buyer_attends": "on", "attendees-TOTAL_FORMS": "0", "attendees-INITIAL_FORMS": "0",
        })
        page = self.client.get(f"/orders/{Order.objects.get().token}/").content.decode()
        self.assertIn("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Ana &amp; Co", page)
        self.assertNotIn("<script>alert", page)
        self.assertIn("&lt;b&gt;District&lt;/b&gt;", page)


class SeatAlertFormProperties(TestCase):
    @fast
    @given(email=emails)
    def test_seat_alert_never_errors(self, email):
        workshop = WorkshopFactory(capacity=1)
        OrderFactory(workshop=workshop)
        response = self.client.post(f"/workshops/{workshop.slug}/notify-me/", {"email": email})
        self.assertIn(response.status_code, (302, 400))
        self.assertEqual(SeatAlert.objects.count(), 1 if response.status_code == 302 else 0)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=20,
)
event_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values, "client_reference_id": json_values, "payment_status": json_values,
        "payment_intent": json_values, "metadata": json_values, "amount_refunded": json_values, "status": json_values,
    },
)


@override_settings(STRIPE_SECRET_KEY="sk_test_props", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
class WebhookProperties(TestCase):
    def post(self, payload: str, signed: bool = True, content_type: str = "application/json"):
        header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET) if signed else "t=1,v1=bad"
        return self.client.generic(
            "POST", "/stripe/webhook/", payload.encode("utf-8", "surrogatepass"), content_type=content_type,
            HTTP_STRIPE_SIGNATURE=header,
        )

    @fast
    @given(
        event_type=st.sampled_from([
            "checkout.session.completed", "checkout.session.async_payment_succeeded",
            "checkout.session.async_payment_failed", "checkout.session.expired", "charge.refunded", "other.thing",
            "invoice.paid", "invoice.voided", "invoice.marked_uncollectible",
        ]),
        obj=event_objects, event_id=json_values,
    )
    def test_signed_but_malformed_events_never_error(self, event_type, obj, event_id):
        order = OrderFactory(status=Order.Status.PENDING, paid_at=None, stripe_payment_intent_id="")
        obj = {**obj, "client_reference_id": obj.get("client_reference_id", order.reference)}
        payload = json.dumps({"id": event_id, "type": event_type, "created": int(time.time()), "data": {"object": obj}})
        response = self.post(payload)
        self.assertIn(response.status_code, (200, 400))
        if response.status_code == 400:
            self.assertFalse(StripeEvent.objects.exists())

    @fast
    @given(body=st.text(max_size=5000), signed=st.booleans(), content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded"]
    ))
    def test_arbitrary_bodies_never_error(self, body, signed, content_type):
        response = self.post(body, signed=signed, content_type=content_type)
        self.assertIn(response.status_code, (200, 400))
        if not signed:
            self.assertEqual(response.status_code, 400)
            self.assertFalse(StripeEvent.objects.exists())


@override_settings(STRIPE_SECRET_KEY="sk_test_props", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
class WebhookNumbersJsonCannotStore(TestCase):
    def test_a_signed_event_holding_infinity_is_refused_not_an_error(self):
        """Python's JSON parser reads Infinity; PostgreSQL's JSON cannot store it (found by the property above)."""
        for value in ("Infinity", "-Infinity", "1e999"):
            payload = ('{"id": "evt_inf", "type": "charge.refunded", "created": 1, "data": {"object": '
                       f'{{"payment_intent": "pi_1", "amount_refunded": 1, "x": {value}}}}}}}')
            header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
            response = self.client.post("/stripe/webhook/", payload, content_type="application/json",
                                        HTTP_STRIPE_SIGNATURE=header)
            self.assertEqual(response.status_code, 400, value)
        self.assertFalse(StripeEvent.objects.exists())
