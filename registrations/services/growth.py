"""A team grows: seats added to a paid order, held and paid for separately, or withdrawn before payment."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registrations.selectors.availability import (
    card_seats_held_from,
    invoice_seat_allowance,
    invoice_seats_held,
    seats_available,
)
from registrations.selectors.ledger import (
    grown_order_price,
    order_money,
    pending_addition,
)
from registrations.selectors.repricing import tier_snapshot
from workshops.models import Workshop

from ..errors import InvoiceHoldError, NotEnoughSeatsError, RegistrationClosedError, SeatChangeError
from ..models import (
    Order,
)
from ..stripe import client as stripe_client
from .checkout import check_network_hold, hold_duration
from .fulfilment import close_order
from .invoices import BillingDetails, apply_billing, invoice_hold_duration
from .seats import ensure_seat_changes_open


def place_addition(
    *, order: Order, extra_seats: int, billing: BillingDetails | None = None, hold_source: str = "",
    now: datetime | None = None,
) -> Order:
    """Hold more seats for a paid order; the team pays only the difference to the new tier's total.

    The price is recomputed on the order's new seat count (3 seats paid at $120 growing to
    5 at $100 each costs $500 - $360 = $140), less what the order actually paid: seats a code
    made free earn no credit. The seats are held like a new order's (31 minutes for Checkout,
    INVOICE_HOLD_DAYS with `billing`, within the invoices' share of seats), under the same
    workshop lock and capacity count as place_order, and join the order when paid (priced again
    then if the order's seat count changed meanwhile). Held by card, they are the network's (`hold_source`) card
    holds like a new order's, within the same cap (check_network_hold).
    Raises SeatChangesClosedError, SeatChangeError, RegistrationClosedError, NotEnoughSeatsError,
    InvoiceHoldError, NetworkHoldLimitError, NoPriceError.
    """
    now = now or timezone.now()
    if extra_seats < 1:
        raise SeatChangeError("Add at least one seat.", field="extra_seats")
    with transaction.atomic():
        workshop = Workshop.objects.select_for_update().get(pk=order.workshop_id)
        parent = Order.objects.select_for_update().get(pk=order.pk)
        ensure_seat_changes_open(order=parent, now=now)
        if parent.kind != Order.Kind.PURCHASE:
            raise SeatChangeError("Seats can only be added to the original order.")
        if not workshop.is_published or workshop.registration_state(now) != "open":
            raise RegistrationClosedError("Registration has closed, so seats can no longer be added online.")
        if not workshop.is_listed:
            # The course's seats go to invited people from the waitlist, not to whoever holds an order.
            raise SeatChangeError("Seats for the course are offered from the waitlist; please write to us.", field="extra_seats")
        money = order_money(order=parent)
        if parent.refunded_seat_count or money.has_refunds:
            raise SeatChangeError(
                "Money on this order was refunded, so please reply to your confirmation email and we will add seats for you."
            )
        if pending_addition(order=parent, now=now) is not None:
            raise SeatChangeError("You have added seats that are still awaiting payment. Pay for them or cancel them first.")
        new_count = parent.seat_count + extra_seats
        if new_count > settings.MAX_SEATS_PER_ORDER:
            room = settings.MAX_SEATS_PER_ORDER - parent.seat_count
            raise SeatChangeError(
                f"One order can hold up to {settings.MAX_SEATS_PER_ORDER} seats, so you can add {max(room, 0)} more.",
                field="extra_seats",
            )
        left = seats_available(workshop=workshop, now=now)
        if extra_seats > left:
            raise NotEnoughSeatsError(left)
        tiers = list(workshop.price_tiers.all())
        price = grown_order_price(order=parent, tiers=tiers, extra_seats=extra_seats, paid_cents=money.net_cents)
        if price.difference_cents < settings.STRIPE_MINIMUM_CHARGE_CENTS:
            raise SeatChangeError("Please reply to your confirmation email and we will add these seats for you.")
        hold_source = _check_hold(workshop=workshop, extra_seats=extra_seats, billing=billing, hold_source=hold_source, now=now)
        quote, difference = price.quote, price.difference_cents
        addition = Order(
            workshop=workshop,
            kind=Order.Kind.ADDITION,
            parent=parent,
            buyer_name=parent.buyer_name,
            buyer_email=parent.buyer_email,
            organisation=parent.organisation,
            role=parent.role,
            buyer_attends=False,
            seat_count=extra_seats,
            unit_price_cents=quote.unit_price_cents,
            subtotal_cents=difference,
            total_cents=difference,
            tier_min_seats=quote.tier_min_seats,
            price_tiers=tier_snapshot(tiers),
            priced_for_seat_count=parent.seat_count,
            hold_expires_at=now + (invoice_hold_duration() if billing else hold_duration()),
            is_test_payment=stripe_client.is_test_payment_mode(),
            hold_source=hold_source,
        )
        if billing is not None:
            apply_billing(addition, billing)
        addition.save()
    return addition


def _check_hold(*, workshop: Workshop, extra_seats: int, billing: BillingDetails | None, hold_source: str, now: datetime) -> str:
    """Added seats are held within the invoices' share of seats, or, by card, within the network's card holds (the
    hold source the addition keeps, returned). With the workshop locked. Raises InvoiceHoldError, NetworkHoldLimitError."""
    if billing is not None:
        if extra_seats + invoice_seats_held(workshop_id=workshop.pk, now=now) > invoice_seat_allowance(workshop):
            raise InvoiceHoldError(
                "Unpaid invoices hold as many of this workshop's seats as we allow just now. Please pay by card, or contact us."
            )
        return ""
    if hold_source:
        held = card_seats_held_from(workshop_id=workshop.pk, hold_source=hold_source, now=now)
        check_network_hold(held=held, seat_count=extra_seats)
    return hold_source


def cancel_addition(*, order: Order) -> bool:
    """The lead withdraws seats they added and have not paid for: release them now.

    Their Checkout Session is expired; their invoice is voided by the next tidy_invoices run
    (or here, when Stripe answers). Returns whether anything was cancelled.
    """
    addition = pending_addition(order=order)
    if addition is None or not close_order(order=addition, status=Order.Status.CANCELLED):
        return False
    stripe_client.expire_checkout_session(addition.stripe_checkout_session_id)
    if addition.stripe_invoice_id and addition.invoice_status == Order.InvoiceStatus.OPEN:
        try:
            stripe_client.void_invoice(addition.stripe_invoice_id, idempotency_key=f"invoice-void-{addition.reference}")
        except stripe_client.PaymentProviderError:
            return True
        Order.objects.filter(pk=addition.pk).update(invoice_status=Order.InvoiceStatus.VOID)
    return True
