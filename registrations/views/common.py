"""What several pages share: token lookups and the messages shown when Stripe cannot be reached."""

from django.http import Http404

from registrations.selectors.order_pages import (
    order_for_token,
    seat_for_token,
)

from ..models import Order, Seat

INVOICE_DOWN_MESSAGE = (
    "We could not create your invoice just now. Your seats are held and nothing was charged: "
    "please try again in a moment."
)


PAYMENT_IN_PROGRESS_MESSAGE = (
    "Your payment page was already being opened when you pressed again. Nothing was charged: press "
    "\u201cContinue to payment\u201d below to go on to it."
)
PAYMENT_DOWN_MESSAGE = (
    "We could not reach our payment provider just now. Your seats are held and nothing was charged: "
    "please try the payment again in a moment."
)


def _order_or_404(token: str) -> Order:
    try:
        return order_for_token(token)
    except Order.DoesNotExist:
        raise Http404("No such order") from None


def _seat_or_404(token: str) -> Seat:
    try:
        return seat_for_token(token)
    except Seat.DoesNotExist:
        raise Http404("No such seat") from None
