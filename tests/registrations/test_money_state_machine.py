"""The money rules under any order of events: a hypothesis state machine drives the site through its public surface.

Random sequences of registering (card or invoice, with and without codes), Checkout completing, delayed bank debits
succeeding or failing, sessions expiring (events duplicated, replayed out of order, some after the hold lapsed), a
Payment Link paying into an order, invoices paid or voided, teams growing, staff refunding seats, refunds made in
Stripe's dashboard, Stripe refusing a refund once (the worker retries it later), Stripe making a refund and losing its
answer, Stripe reporting `charge.refunded` at any time, and time passing. After every step:
seats taken never exceed capacity; every paid order was paid exactly its price (worked out here from the tiers and the
code, independently of the site) and its payments' net equals what it kept; nothing is refunded or reserved beyond
what was paid; a code's seats are never over-used; every payment that could not stand was given back, or is reserved
and being retried; and the receipt, the orders CSV, the finance CSV and the staff dashboard show exactly what the
ledger holds (money owed back that Stripe has not taken yet is not counted as refunded); and per charge, Stripe's
refunded total lies between what the ledger counts as refunded and that plus what it keeps pending.

Profiles: `money-ci` (300 examples; CI sets CI=true) and `money-dev` (25, for a quick run); `money-probe` (MONEY_EXAMPLES
examples) and `money-probe-long` (as many, of MONEY_STEPS steps, 20 unless told) for a longer hunt; MONEY_PROFILE
picks one.
"""

import csv
import io
import json
import os
import re
import secrets
import time
from datetime import timedelta

import pytest
import stripe
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, Sum
from django_tasks import default_task_backend
from django.test import Client, TestCase
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from registrations.models import Order, Payment, RefundPart, Seat, Voucher
from tests.conftest import WEBHOOK_SECRET
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.tasks_backend import ImmediateOnCommitBackend

settings.register_profile(
    "money-ci",
    max_examples=300,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
settings.register_profile("money-dev", settings.get_profile("money-ci"), max_examples=25)
settings.register_profile("money-probe", settings.get_profile("money-ci"), max_examples=int(os.environ.get("MONEY_EXAMPLES", "5")))
settings.register_profile("money-probe-long", settings.get_profile("money-probe"), stateful_step_count=int(os.environ.get("MONEY_STEPS", "20")))
PROFILE = os.environ.get("MONEY_PROFILE") or ("money-ci" if os.environ.get("CI") else "money-dev")

CAPACITY = 10
CODES = {
    # code: (percent off each seat it covers, seats it covers in all)
    "HALF": (50, 3),
    "FREE": (100, 2),
}
TIERS = ((5, 10000), (1, 12000))  # (min seats, unit price), best first


def tier_price(seats: int) -> int:
    return next(price for minimum, price in TIERS if seats >= minimum)


class MoneyMachine(RuleBasedStateMachine):
    """One workshop of 10 seats (6 of them for unpaid invoices); each example runs in a savepoint rolled back at the end."""

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

    # --- what must always hold -------------------------------------------------------------------------------

    @invariant()
    def money_rules_hold(self):
        fingerprint = self.check_the_ledger()
        self.check_what_people_read(fingerprint)

    @invariant()
    def the_site_and_stripe_agree_on_every_refund(self):
        """Per charge, Stripe's refunded total is at least what the ledger counts as refunded and at most that plus
        the refunds it keeps pending (asked of Stripe, answer lost or refused for now, the worker retrying): to the
        cent, whichever refunds were asked, made in the dashboard, refused, lost or retried, and whenever Stripe's
        events arrive. Nothing pending: the two are equal."""
        made = Q(refund_parts__refund__made_at__isnull=False)
        for intent, back, pending in Payment.objects.filter(stripe_payment_intent_id__in=list(self.double.intents)).annotate(
            back=Sum("refund_parts__amount_cents", filter=made), pending=Sum("refund_parts__amount_cents", filter=~made)
        ).values_list("stripe_payment_intent_id", "back", "pending"):
            at_stripe = self.double.charge(intent)["amount_refunded"]
            assert (back or 0) <= at_stripe <= (back or 0) + (pending or 0), (intent, back, pending, at_stripe)

    def check_the_ledger(self) -> dict:
        """Capacity, prices, payments and codes, from the tables themselves (a handful of queries, not the site's code).

        Returns what each paid or refunded order's receipt must show, and the totals staff must see."""
        now = timezone.now()
        orders = {o.pk: o for o in Order.objects.select_related("voucher")}
        made = Q(refund_parts__refund__made_at__isnull=False)
        payments = list(
            Payment.objects.annotate(
                back=Sum("refund_parts__amount_cents", filter=made), pending=Sum("refund_parts__amount_cents", filter=~made)
            ).values("pk", "order_id", "amount_cents", "status", "back", "pending", "stripe_refund_failed_cents")
        )
        returned = dict(
            RefundPart.objects.filter(refund__kind="returned").values_list("payment_id").annotate(n=Sum("amount_cents"))
        )

        def owner(order_id: int) -> int:
            """Seats that joined an order pay into it."""
            order = orders[order_id]
            return order.parent_id if order.status == Order.Status.MERGED else order.pk

        deferred = [(task.name, args) for _, task, args, _ in ImmediateOnCommitBackend.deferred]
        retried = {args[0] for name, args in deferred if name == "return_payment_task"}
        seat_refunds = [args[0] for name, args in deferred if name == "send_seat_refund_task"]  # Stripe's answer lost
        retried |= set(RefundPart.objects.filter(refund_id__in=seat_refunds).values_list("payment_id", flat=True))
        paid, refunded, reserved, not_owed = {}, {}, {}, {}  # per owning order, accepted payments only
        failed = {}  # per owning order: refunds Stripe could not complete (staff are told the buyer is owed them)
        owed_back = set()  # orders with money owed back that Stripe has not taken yet
        for p in payments:
            order, back, pending = orders[p["order_id"]], p["back"] or 0, p["pending"] or 0
            if pending:
                # Never silently kept: the worker has a retry of it scheduled.
                assert p["pk"] in retried, f"payment {p['pk']}: {pending} owed back and no retry scheduled"
                owed_back.add(p["order_id"])
            if p["stripe_refund_failed_cents"]:
                failed[owner(p["order_id"])] = failed.get(owner(p["order_id"]), 0) + p["stripe_refund_failed_cents"]
                assert orders[owner(p["order_id"])].payment_needs_review, f"payment {p['pk']}: a refund failed, staff not told"
            if p["status"] == Payment.Status.REFUSED:
                assert back + pending == p["amount_cents"] or p["stripe_refund_failed_cents"], (
                    f"payment {p['pk']} could not stand and was not given back"
                )
            if p["status"] != Payment.Status.ACCEPTED:
                continue
            assert order.status in (Order.Status.PAID, Order.Status.MERGED, Order.Status.REFUNDED), (
                f"{order.reference} is {order.status} but took a payment"
            )
            key = owner(order.pk)
            paid[key] = paid.get(key, 0) + p["amount_cents"]
            refunded[key] = refunded.get(key, 0) + back
            reserved[key] = reserved.get(key, 0) + pending
            not_owed[key] = not_owed.get(key, 0) + returned.get(p["pk"], 0)  # returned, or reserved to be

        taken, code_seats = 0, {}
        for order in orders.values():
            assert order.status != Order.Status.NEEDS_REFUND or order.pk in owed_back, (
                f"{order.reference}: its refund did not go through and is not being retried"
            )
            if order.status in (Order.Status.PAID, Order.Status.PROCESSING) or (
                order.status == Order.Status.PENDING and order.hold_expires_at > now
            ):
                taken += order.seat_count - order.refunded_seat_count
                if order.voucher_id:
                    code_seats[order.voucher.code] = code_seats.get(order.voucher.code, 0) + order.voucher_seat_count
            if order.kind == Order.Kind.PURCHASE and order.status == Order.Status.PAID:
                # The price of its seats, worked out here from the tiers and the code: a team always pays its tier.
                unit = tier_price(order.seat_count)
                discount = 0
                if order.voucher_id:
                    discount = (unit * order.voucher_seat_count * CODES[order.voucher.code][0] + 50) // 100
                assert order.total_cents == unit * order.seat_count - discount, order.reference
                kept = paid.get(order.pk, 0) - not_owed.get(order.pk, 0)
                assert kept == order.total_cents, f"{order.reference} costs {order.total_cents} but its payments kept {kept}"
            if order.kind == Order.Kind.PURCHASE:
                # Nothing refunded beyond what was paid, counting money reserved to be returned.
                assert refunded.get(order.pk, 0) + reserved.get(order.pk, 0) <= paid.get(order.pk, 0), order.reference
            if order.kind == Order.Kind.PURCHASE and order.status == Order.Status.REFUNDED:
                given_back = refunded.get(order.pk, 0) + reserved.get(order.pk, 0)
                # Or Stripe would not give it back (a refund failed, or refused once its seats or code were taken),
                # and staff were told what the buyer is owed.
                owed_by_hand = failed.get(order.pk) or (order.payment_needs_review and "owed" in order.payment_review_note)
                assert paid.get(order.pk, 0) == given_back or owed_by_hand, f"{order.reference} was refunded but kept money"
        assert taken <= CAPACITY, f"{taken} seats taken of {CAPACITY}"
        for code, used in code_seats.items():
            assert used <= CODES[code][1], f"code {code} covers {used} seats"

        self.has_paid_orders = any(o.status == Order.Status.PAID and o.kind == Order.Kind.PURCHASE for o in orders.values())
        self.has_paid_seats = any(o.status == Order.Status.PAID and o.active_seat_count for o in orders.values())
        return {
            "orders": len(orders),
            "paid": sum(paid.values()),
            "refunded": sum(refunded.values()),
            "receipts": {
                o.pk: (o.token, paid.get(o.pk, 0), refunded.get(o.pk, 0))
                for o in orders.values()
                if o.kind == Order.Kind.PURCHASE and o.status in (Order.Status.PAID, Order.Status.REFUNDED)
            },
        }

    def check_what_people_read(self, fingerprint: dict) -> None:
        """The staff dashboard and the orders CSV add up to the ledger, and each receipt shows its order's payments;
        checked whenever any of them changed."""
        totals = (fingerprint["orders"], fingerprint["paid"], fingerprint["refunded"])
        if totals != self.seen.get("totals"):
            paid, refunded = fingerprint["paid"], fingerprint["refunded"]
            staff = self.as_staff()
            dashboard = staff.get("/admin/registrations/workshopdashboard/").content.decode()
            assert f'data-revenue-cents="{paid - refunded}"' in dashboard
            assert f'data-refunded-cents="{refunded}"' in dashboard
            response = staff.post(
                "/admin/registrations/order/", {"action": "export_csv", "select_across": "1", "_selected_action": ["0"]}
            )
            rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))) if fingerprint["orders"] else []
            assert len(rows) == fingerprint["orders"]
            assert sum(round(float(r["Paid (USD)"]) * 100) for r in rows) == paid
            assert sum(round(float(r["Refunded (USD)"]) * 100) for r in rows) == refunded
            finance = staff.get("/admin/registrations/payment/finance/", {"download": "1"})
            counted = [r for r in csv.DictReader(io.StringIO(finance.content.decode("utf-8-sig")))
                       if r["Counts toward revenue"] == "yes"]
            assert sum(round(float(r["Amount"]) * 100) for r in counted) == paid - refunded
        for pk, (token, paid, refunded) in fingerprint["receipts"].items():
            if self.seen.get("receipts", {}).get(pk) == (token, paid, refunded):
                continue
            html = self.buyer.get(f"/orders/{token}/").content.decode()
            shown = {name: re.search(rf'data-{name}-cents="(\d+)"', html) for name in ("paid", "refunded")}
            assert (int(shown["paid"].group(1)) if shown["paid"] else 0) == paid, token
            assert (int(shown["refunded"].group(1)) if shown["refunded"] else 0) == refunded, token
        self.seen = {"totals": totals, "receipts": fingerprint["receipts"], "orders": fingerprint["orders"]}


@pytest.mark.django_db
def test_money_rules_hold_under_any_order_of_events(stripe_double):
    profile = settings.get_profile(PROFILE)
    run_state_machine_as_test(lambda: MoneyMachine(stripe_double), settings=profile)
    assert django_settings.STRIPE_SECRET_KEY  # the real SDK talked to the double throughout
