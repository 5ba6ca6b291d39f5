"""What must hold after every step of the money machine: its invariants, on the rules of rules.py. MoneyMachine is the
whole machine."""

import csv
import io
import re

from django.db.models import Q, Sum
from django.utils import timezone
from hypothesis.stateful import invariant

from registrations.models import Order, Payment, RefundPart
from tests.tasks_backend import ImmediateOnCommitBackend

from .rules import CAPACITY, CODES, MoneyRules, tier_price


class MoneyMachine(MoneyRules):
    """The money machine: its rules (rules.py) and, after every step, what must hold."""

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
