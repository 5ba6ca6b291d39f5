"""What the money machine does: its world (one workshop, its tiers and codes) and its rules, each a step a buyer,
staff or Stripe takes through the site's public surface. Its invariants are in invariants.py."""

import io
import json
import secrets
import time
from datetime import timedelta

import stripe
import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, TestCase
from django.utils import timezone
from django_tasks import default_task_backend
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from registrations.models import Order, Seat, Voucher
from tests.conftest import WEBHOOK_SECRET
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.tasks_backend import ImmediateOnCommitBackend

CAPACITY = 10
CODES = {
    # code: (percent off each seat it covers, seats it covers in all)
    "HALF": (50, 3),
    "FREE": (100, 2),
}
TIERS = ((5, 10000), (1, 12000))  # (min seats, unit price), best first


def tier_price(seats: int) -> int:
    return next(price for minimum, price in TIERS if seats >= minimum)


class MoneyRules(RuleBasedStateMachine):
    """The rules; invariants.py adds what must hold after each. One workshop of 10 seats (6 of them for unpaid
    invoices); each example runs in a savepoint rolled back at the end."""

    def __init__(self, stripe_double):
        super().__init__()
        self.double = stripe_double
        self.double.reset()
        ImmediateOnCommitBackend.forget_deferred()
        self.traveller = time_machine.travel(timezone.now(), tick=True)
        self.clock = self.traveller.start()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.workshop = WorkshopFactory(capacity=CAPACITY, invoice_hold_percent=60)
        for code, (percent, seats) in CODES.items():
            Voucher.objects.create(code=code, kind="percent", percent_off=percent, max_seats=seats, applies_to="seat")
        self.finance = get_user_model().objects.create_user(
            "finance", "finance@example.org", "pw", is_staff=True, is_superuser=True
        )
        self.buyer, self.staff = Client(), Client()
        self.sent: list[tuple[str, str, dict]] = []  # (event id, type, object) delivered so far
        self.people = 0
        self.logged_in = False
        self.seen: dict = {}  # what the surfaces were last checked against
        self.has_paid_orders = self.has_paid_seats = False

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.traveller.stop()

    # --- helpers ----------------------------------------------------------------------------------------------

    def step(self, action):
        """Run an action as one request would, then the tasks its transaction queued (refunds, emails)."""
        with TestCase.captureOnCommitCallbacks(execute=True):
            return action()

    def deliver(self, event_type: str, obj: dict, event_id: str | None = None, label: str = "") -> None:
        event_id = event_id or f"evt_{secrets.token_hex(10)}"
        payload = json.dumps({"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
                              "data": {"object": obj}})
        header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
        response = self.step(lambda: self.buyer.post(
            "/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        ))
        assert response.status_code == 200, (event_type, response.status_code, response.content[:300])
        event(f"{label or event_type}: {response.content.decode()}")
        self.sent.append((event_id, event_type, obj))

    def as_staff(self) -> Client:
        if not self.logged_in:  # again after time passed: the admin session may have expired
            self.staff.force_login(self.finance)
            self.logged_in = True
        return self.staff

    def pick(self, index: int, queryset):
        rows = list(queryset.order_by("pk"))
        return rows[index % len(rows)] if rows else None

    def open_sessions(self):
        return [s for s in self.double.sessions.values() if s["status"] == "open"]

    def delayed_debits(self):
        return [s for s in self.double.sessions.values() if s["status"] == "complete" and s["payment_status"] == "unpaid"]

    def open_invoices(self):
        return [i for i in self.double.invoices.values() if i["status"] == "open"]

    def refunded_charges(self):
        return [c for c in (self.double.charge(pi) for pi in list(self.double.intents)) if c["amount_refunded"]]

    def completed_refunds(self):
        return [r for r in list(self.double.refunds.values()) if r["status"] == "succeeded"]

    def refundable_charges(self):
        charges = [self.double.charge(pi) for pi in list(self.double.intents)]
        return [c for c in charges if c["amount"] > c["amount_refunded"]]

    # --- what buyers do --------------------------------------------------------------------------------------

    @rule(invoice=st.booleans(), seats=st.integers(1, 6), code=st.sampled_from([None, "HALF", "FREE"]))
    def register(self, invoice, seats, code):
        self.people += 1
        n = self.people
        data = registration_data(seat_count=seats, buyer_email=f"lead{n}@school{n}.example", voucher_code=code or "")
        if invoice:
            data.update(payment_method="invoice", billing_name="Dana Ruiz", billing_email=f"ap{n}@school{n}.example",
                        billing_line1=f"{n} Main Street", billing_city="Oakland", billing_state="CA",
                        billing_postal_code="94612", billing_country="US")
        response = self.step(lambda: self.buyer.post(f"/workshops/{self.workshop.slug}/register/", data))
        assert response.status_code in (200, 302, 400), response.status_code
        event(f"register by {'invoice' if invoice else 'card'}: {response.status_code}")

    @precondition(lambda self: self.open_sessions())
    @rule(index=st.integers(0, 99), delayed=st.booleans())
    def checkout_completes(self, index, delayed):
        sessions = self.open_sessions()
        session = sessions[index % len(sessions)]
        if delayed:
            self.deliver("checkout.session.completed", self.double.start_delayed_payment(session["id"]))
        else:
            self.deliver("checkout.session.completed", self.double.pay(session["id"]))

    @precondition(lambda self: self.delayed_debits())
    @rule(index=st.integers(0, 99), succeeds=st.booleans())
    def bank_debit_settles(self, index, succeeds):
        debits = self.delayed_debits()
        session = debits[index % len(debits)]
        if succeeds:
            self.deliver("checkout.session.async_payment_succeeded", self.double.pay(session["id"]))
        else:
            session["payment_status"] = "failed"
            self.deliver("checkout.session.async_payment_failed", dict(session))

    @precondition(lambda self: self.open_sessions())
    @rule(index=st.integers(0, 99))
    def session_expires(self, index):
        sessions = self.open_sessions()
        session = sessions[index % len(sessions)]
        session["status"] = "expired"
        self.deliver("checkout.session.expired", dict(session))

    @precondition(lambda self: self.sent)
    @rule(index=st.integers(0, 99), same_id=st.booleans())
    def stripe_sends_an_event_again(self, index, same_id):
        """A retry (same event id) or a second event about the same thing, possibly long after, out of order."""
        event_id, event_type, obj = self.sent[index % len(self.sent)]
        self.deliver(event_type, obj, event_id=event_id if same_id else None, label=f"again {event_type}")

    @precondition(lambda self: self.seen.get("orders"))
    @rule(index=st.integers(0, 99), amount=st.integers(1, 200000), currency=st.sampled_from(["usd", "jpy"]))
    def a_payment_link_names_an_order(self, index, amount, currency):
        order = self.pick(index, Order.objects.all())
        self.people += 1
        self.deliver("checkout.session.completed", {
            "id": f"cs_link_{self.people}", "object": "checkout.session", "client_reference_id": order.reference,
            "payment_status": "paid", "status": "complete", "amount_total": amount, "currency": currency,
            "payment_intent": f"pi_link_{self.people}",
        }, label="payment link")

    @precondition(lambda self: self.open_invoices())
    @rule(index=st.integers(0, 99), paid=st.booleans())
    def invoice_is_paid_or_voided(self, index, paid):
        invoices = self.open_invoices()
        invoice = invoices[index % len(invoices)]
        if paid:
            self.deliver("invoice.paid", self.double.pay_invoice(invoice["id"]))
        else:
            self.deliver("invoice.voided", self.double.void_invoice(invoice["id"]))

    def grow(self, index: int, extra: int, invoice: bool) -> None:
        order = self.pick(index, Order.objects.filter(kind=Order.Kind.PURCHASE, status=Order.Status.PAID))
        data = {"grow-extra_seats": str(extra), "grow-payment_method": "invoice" if invoice else "card"}
        if invoice:
            data.update({"grow-billing_name": "Dana Ruiz", "grow-billing_email": "ap@grow.example",
                         "grow-billing_line1": "1 Grow Street", "grow-billing_city": "Oakland", "grow-billing_state": "CA",
                         "grow-billing_postal_code": "94612", "grow-billing_country": "US"})
        response = self.step(lambda: self.buyer.post(f"/orders/{order.token}/add-seats/", data))
        assert response.status_code in (302, 400), response.status_code
        event(f"team grows by {'invoice' if invoice else 'card'}: {response.status_code}")

    @precondition(lambda self: self.has_paid_orders)
    @rule(index=st.integers(0, 99), extra=st.integers(1, 4))
    def team_grows_paying_by_card(self, index, extra):
        self.grow(index, extra, invoice=False)

    @precondition(lambda self: self.has_paid_orders)
    @rule(index=st.integers(0, 99), extra=st.integers(1, 4))
    def team_grows_paying_by_invoice(self, index, extra):
        self.grow(index, extra, invoice=True)

    # --- what staff do --------------------------------------------------------------------------------------

    @precondition(lambda self: self.has_paid_seats)
    @rule(index=st.integers(0, 99), count=st.integers(1, 3))
    def staff_refund_seats(self, index, count):
        order = self.pick(index, Order.objects.filter(status=Order.Status.PAID, seats__status=Seat.Status.ACTIVE).distinct())
        seats = list(order.seats.filter(status=Seat.Status.ACTIVE).order_by("position").values_list("pk", flat=True))[:count]
        staff = self.as_staff()
        response = self.step(lambda: staff.post(
            "/admin/registrations/rosterseat/",
            {"action": "refund_selected_seats", "_selected_action": seats, "post": "yes"},
        ))
        assert response.status_code == 302, response.status_code
        event("staff refund seats")

    @precondition(lambda self: self.refundable_charges())
    @rule(index=st.integers(0, 99), share=st.sampled_from([1, 2, 4]))
    def refund_in_stripe_dashboard(self, index, share):
        charges = self.refundable_charges()
        charge = charges[index % len(charges)]
        amount = max((charge["amount"] - charge["amount_refunded"]) // share, 1)
        self.deliver("charge.refunded", self.double.refund_in_dashboard(charge["payment_intent"], amount))

    @rule(status=st.sampled_from([500, 400]))
    def stripe_refuses_a_refund_once(self, status):
        """The next refund asked of Stripe fails (an outage, or a refusal): staff are told, money owed back is retried."""
        self.double.fail_next(status=status, path_prefix="/v1/refunds", method="POST")

    @rule(status=st.sampled_from([500, 0]))
    def stripe_loses_its_answer_to_the_next_refund(self, status):
        """The next refund asked of Stripe is made, but its answer never arrives (Stripe's error, or a dropped line)."""
        self.double.fail_next(status=status, path_prefix="/v1/refunds", method="POST", lost_answer=True)

    @rule(lost=st.booleans())
    def stripe_answers_one_refund_then_errs_on_the_next(self, lost):
        """Of the next two refunds asked of Stripe, the first is answered and the second errs (made and its answer lost,
        or not made): a seat refund spanning a grown order's two charges, one part made and the other left waiting."""
        self.double.fail_next(status=500, path_prefix="/v1/refunds", method="POST", lost_answer=lost, skip=1)

    @precondition(lambda self: Order.objects.filter(refunds__kind="seats", refunds__made_at__isnull=True).exists())
    @rule(index=st.integers(0, 99))
    def staff_send_pending_seat_refunds_again(self, index):
        """Staff choose "Send pending seat refunds again" for an order whose seat refund waits on Stripe's answer."""
        order = self.pick(index, Order.objects.filter(refunds__kind="seats", refunds__made_at__isnull=True).distinct())
        staff = self.as_staff()
        response = self.step(lambda: staff.post(
            "/admin/registrations/order/", {"action": "resend_pending_seat_refunds", "_selected_action": [order.pk]},
        ))
        assert response.status_code == 302, response.status_code

    @precondition(lambda self: self.refunded_charges())
    @rule(index=st.integers(0, 99))
    def stripe_reports_a_charge_refunded(self, index):
        """Stripe's `charge.refunded` for a refund the site asked for (made, or whose answer was lost), at any time
        and any number of times: it carries the charge's refunded total as it stands."""
        charges = self.refunded_charges()
        self.deliver("charge.refunded", charges[index % len(charges)], label="charge.refunded (the site's own)")

    @precondition(lambda self: self.completed_refunds())
    @rule(index=st.integers(0, 99))
    def a_refund_fails_at_stripe(self, index):
        """The card a refund went to was closed: Stripe fails the refund, its money comes back to the balance, and
        `refund.failed` arrives (a refund the site made, whose answer was lost, or one made in the dashboard)."""
        refunds = self.completed_refunds()
        self.deliver("refund.failed", self.double.fail_refund(refunds[index % len(refunds)]["id"]))

    @precondition(lambda self: ImmediateOnCommitBackend.deferred)
    @rule()
    def the_worker_retries(self):
        """Time passes until the worker's next retry is due, and it runs what is due."""
        due = min(entry[0] for entry in ImmediateOnCommitBackend.deferred)
        if due > timezone.now():
            self.clock.move_to(due + timedelta(seconds=1))
            self.logged_in = False
        ran = self.step(lambda: default_task_backend.run_due_tasks())
        event(f"worker retried {ran} task(s)")

    @rule(minutes=st.sampled_from([5, 40, 180, 15 * 24 * 60]))
    def time_passes(self, minutes):
        self.clock.shift(timedelta(minutes=minutes))
        self.logged_in = False
        if minutes > 24 * 60:  # the send_reminders job has run meanwhile: lapsed invoices closed and voided
            from django.core.management import call_command

            self.step(lambda: call_command("send_reminders", stdout=io.StringIO()))
