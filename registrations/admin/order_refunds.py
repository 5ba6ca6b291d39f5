"""Refund the whole order, from the Orders list: a page of what each order would give back, then "Yes", which carries
out each order only as that page showed it. An order that changed meanwhile (paid, grown, refunded by someone else) is
not refunded: the page comes back for it with what it would refund now. Staff read what happened to each order, and
how many of each."""

from collections import Counter

from django.contrib import messages
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse

from registrations.errors import RefundChangedError, RefundError
from registrations.selectors.ledger import parts_returned_by_hand
from registrations.selectors.order_refunds import WholeOrderRefund, whole_order_refund
from registrations.services.refunds import return_refused_payments
from registrations.services.seat_refunds import RefundPendingError, refund_pending_message, refund_seats
from workshops.templatetags.workshop_tags import usd

from .. import emails
from ..models import Order, Refund
from ..stripe import client as stripe_client

# What the closing summary calls each outcome, in the order it lists them.
OUTCOMES = {
    "refunded": "refunded",
    "by hand": "recorded to be returned by hand (paid outside Stripe)",
    "cancelled": "cancelled with nothing left to refund",
    "returned": "returned (payment not accepted)",
    "already": "already returned (nothing sent again)",
    "pending": "waiting on Stripe's answer",
    "unknown": "no answer from Stripe (refund again to find out)",
    "failed": "not refunded (see above)",
    "changed": "changed since you looked, not refunded",
    "skipped": "skipped (nothing to refund)",
}
MONEY_MOVED = {"refunded", "by hand", "cancelled", "returned", "pending", "unknown"}


def chosen(queryset) -> list[Order]:
    return list(queryset.select_related("workshop", "parent").order_by("created_at", "pk"))


def confirm_page(modeladmin, request, orders: list[Order]):
    """The page before anything is refunded: what each order would give back, and from which payments. Its form
    sends back, per order, what it showed (`amount_<pk>`, `seats_<pk>`), so "Yes" refunds exactly that."""
    refunds = [whole_order_refund(order=order) for order in orders]
    return TemplateResponse(
        request,
        "registrations/admin/order_refund_confirm.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Refund these orders?",
            "opts": modeladmin.model._meta,
            "refunds": refunds,
            "anything_to_refund": any(refund.outcome != "skip" for refund in refunds),
            "through_stripe": any(refund.amount_cents > refund.outside_stripe_cents for refund in refunds),
            "by_hand": any(refund.outside_stripe_cents for refund in refunds),
            "action": "refund_whole_order",
        },
    )


def refund_as_shown(modeladmin, request, queryset):
    """ "Yes": each order whose refund still reads as the page showed it is refunded; the others come back on the page,
    with what changed. Returns that page, or None (back to the list)."""
    counts, changed = Counter(), []
    for order in chosen(queryset):
        plan = whole_order_refund(order=order)
        shown = (request.POST.get(f"amount_{order.pk}", ""), request.POST.get(f"seats_{order.pk}", ""))
        outcome = _carry_out(modeladmin, request, plan) if shown == plan.shown else "changed"
        if outcome == "changed" and _returned_meanwhile(plan, shown):
            modeladmin.message_user(request, _already_returned(order, 1), messages.INFO)
            outcome = "already"
        if outcome == "changed":
            order.refresh_from_db()
            modeladmin.message_user(request, _what_changed(whole_order_refund(order=order), shown), messages.WARNING)
            changed.append(order)
        counts[outcome] += 1
    modeladmin.message_user(request, _summary(counts), _summary_level(counts))
    return confirm_page(modeladmin, request, changed) if changed else None


def _carry_out(modeladmin, request, plan: WholeOrderRefund) -> str:
    """Refund (or return) one order as the page showed it, under the refund's own lock; its outcome (OUTCOMES)."""
    order = plan.order
    if plan.outcome == "skip":
        return "skipped"
    if plan.outcome == "return":
        return _return_refused(modeladmin, request, order)
    try:
        refund = refund_seats(order=order, seats=plan.seats, reason=f"Refunded by {request.user}", expected_cents=plan.amount_cents)
    except RefundChangedError:
        return "changed"
    except RefundError as exc:
        modeladmin.message_user(request, f"{order.reference}: {exc}", messages.ERROR)
        return "failed"
    except RefundPendingError as exc:
        modeladmin.message_user(request, refund_pending_message(order, exc), messages.WARNING)
        return "pending"
    except stripe_client.PaymentProviderError as exc:
        modeladmin.message_user(request, f"{order.reference}: Stripe refused the refund ({exc}). Nothing changed.", messages.ERROR)
        return "failed"
    emails.send_refund_made(refund_id=refund.pk)  # sends nothing for a refund of nothing
    outcome, text = refund_outcome(order, refund, seat_count=len(plan.seats))
    modeladmin.message_user(request, text, messages.WARNING if outcome == "by hand" else messages.SUCCESS)
    return outcome


def refund_outcome(order: Order, refund: Refund, *, seat_count: int) -> tuple[str, str]:
    """A refund just made, for staff: "refunded", "cancelled" (nothing left to refund: no money, no email) or "by hand"
    (paid outside Stripe), and what to tell them."""
    seats = f"{seat_count} seat{pluralize(seat_count)}"
    if refund.amount_cents == 0:
        return "cancelled", (f"{order.reference}: {seats} cancelled; nothing was left to refund, so no money moved. The "
                             "buyer has been emailed that the seats are cancelled with no refund, and why.")
    outside = sum(part.amount_cents for part in parts_returned_by_hand(refund))
    if outside:
        return "by hand", (
            f"{order.reference}: {seats} cancelled and a refund of {usd(refund.amount_cents)} recorded. {usd(outside)} of "
            "it was paid outside Stripe (cheque or transfer), so Stripe was not asked: return it to the buyer the same "
            "way. The order is flagged for review until then; the buyer has been emailed."
        )
    return "refunded", f"{order.reference}: refunded {usd(refund.amount_cents)}; the buyer has been emailed."


def _return_refused(modeladmin, request, order: Order) -> str:
    """An order whose payment could not stand: retry returning it (its automatic refund failed). Another staff member
    (or an earlier press) may have returned it meanwhile: then nothing new is sent, and staff read that."""
    try:
        count, already = return_refused_payments(order=order)
    except stripe_client.PaymentProviderError as exc:
        if exc.outcome_unknown:  # no answer in time, or Stripe's own error: the refund may have been made
            modeladmin.message_user(request, (
                f"{order.reference}: Stripe did not answer ({exc}), so the payment may have been returned. Choose "
                "the order and refund it again: the same request is sent, so nothing goes back twice, and you will "
                "read what Stripe did."), messages.WARNING)
            return "unknown"
        modeladmin.message_user(request, f"{order.reference}: Stripe refused the refund ({exc}). Nothing changed.", messages.ERROR)
        return "failed"
    if already:
        modeladmin.message_user(request, _already_returned(order, already, returned=count), messages.INFO)
        return "returned" if count else "already"
    if not count:
        modeladmin.message_user(request, f"{order.reference}: nothing was left to return.", messages.INFO)
        return "skipped"
    modeladmin.message_user(request, f"{order.reference}: returned {count} payment{pluralize(count)}.", messages.SUCCESS)
    return "returned"


def _already_returned(order: Order, already: int, *, returned: int = 0) -> str:
    done = f"returned {returned} payment{pluralize(returned)}; " if returned else ""
    which = "its refused payment had" if already == 1 and not returned else f"{already} refused payment{pluralize(already)} had"
    return (f"{order.reference}: {done}{which} already been returned (by someone else, or an earlier request); nothing "
            "was sent to Stripe again.")


def _returned_meanwhile(now: WholeOrderRefund, shown: tuple[str, str]) -> bool:
    """The page showed returning a refused payment (money, no seats), and the order's refused payments have all been
    returned since (by another staff member, the worker, or a refund in Stripe's dashboard): it is refunded now."""
    was_a_return = shown[0] not in ("", "skip") and shown[1] == "0"
    return was_a_return and now.order.status == Order.Status.REFUNDED and (
        now.order.refunds.filter(kind=Refund.Kind.RETURNED).exists()
    )


def _what_changed(now: WholeOrderRefund, shown: tuple[str, str]) -> str:
    """What staff read about an order that no longer refunds what the page showed (`shown`: its amount and seats)."""
    ref, (cents, seats) = now.order.reference, shown
    refunds = "nothing" if now.outcome == "skip" else usd(now.amount_cents)
    if cents != "skip" and not (cents.isascii() and cents.isdigit() and len(cents) <= 12):
        return f"Order {ref}: check what it refunds now ({refunds}) and confirm again."
    if cents == now.shown[0]:
        return f"Order {ref} changed since you looked: it now cancels {now.shown[1]} seats, not {seats}. Check and confirm again."
    was = "nothing (it was listed as skipped)" if cents == "skip" else usd(int(cents))
    return f"Order {ref} changed since you looked: it now refunds {refunds}, not {was}. Check and confirm again."


def _summary(counts: Counter) -> str:
    total = sum(counts.values())
    parts = [f"{counts[key]} {label}" for key, label in OUTCOMES.items() if counts[key]]
    opening = "" if MONEY_MOVED & set(+counts) else "nothing was refunded; "
    return f"{total} order{pluralize(total)} chosen: {opening}{', '.join(parts)}."


def _summary_level(counts: Counter) -> int:
    if counts["failed"] or counts["changed"] or counts["pending"] or counts["by hand"] or counts["unknown"]:
        return messages.WARNING
    return messages.SUCCESS if MONEY_MOVED & set(+counts) else messages.INFO
