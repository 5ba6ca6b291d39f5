"""What the registration form starts with: a seat count as typed, an earlier order's or a quote's details, the
attendee rows posted so far."""

from django import forms

from registrations.selectors.codes import valid_quote

from ..forms import RegistrationForm
from ..models import Order


def attendee_rows(seat_count: int, buyer_attends: bool) -> int:
    return max(seat_count - (1 if buyer_attends else 0), 0)


def typed_seat_count(data) -> int | None:
    """The seat count as typed, read as the form reads it ("3", " 3 ", "3.0"), when it is a whole number (0 and
    below included: the form says what is wrong); None when nothing or something else was typed."""
    try:
        return RegistrationForm.base_fields["seat_count"].to_python(data.get("seat_count", ""))
    except forms.ValidationError:
        return None


def filled_rows(rows: list[dict]) -> int:
    """How many of the posted attendee rows to keep so that no name or email typed is lost."""
    return max((n for n, row in enumerate(rows, start=1) if str(row.get("name") or "").strip()
                or str(row.get("email") or "").strip()), default=0)


def posted_seat_count(data) -> int | None:
    value = typed_seat_count(data)
    return value if value is not None and value >= 1 else None


def initial_from_order(order: Order) -> dict:
    """The buyer's own details from an earlier order (`?from=<order token>`): never anyone else's.

    Attendees' names, emails and access needs stay out: the link may have been forwarded, and a
    seat may have passed to someone else since. The buyer's own access needs come along only from an
    order never paid (seats change hands only once paid: a paid order's first seat may have been given to
    someone whose needs staff noted, then corrected back to the buyer's address) whose first seat is theirs.
    """
    initial = {
        "buyer_name": order.buyer_name,
        "buyer_email": order.buyer_email,
        "organisation": order.organisation,
        "role": order.role,
        "seat_count": order.seat_count,
        "buyer_attends": order.buyer_attends,
        **billing_initial(order),
        "voucher_code": order.voucher.code if order.voucher_id else "",
        "quote_reference": order.quote.reference if order.quote_id else "",
    }
    own = order.seats.order_by("position").first() if order.buyer_attends and order.paid_at is None else None
    if own is not None and own.attendee_email.strip().lower() == order.buyer_email.strip().lower():
        initial.update(needs_captions=own.needs_captions, needs_interpreter=own.needs_interpreter, access_note=own.access_note)
    return initial


def billing_initial(order: Order) -> dict:
    fields = ("billing_name", "billing_email", "billing_line1", "billing_line2", "billing_city", "billing_state",
              "billing_postal_code", "billing_country", "po_number")
    return {"payment_method": order.payment_method, **{name: getattr(order, name) for name in fields}}


def posted_rows(data) -> list[dict]:
    rows, i = [], 0
    fields = ("name", "email", "needs_captions", "needs_interpreter", "access_note")
    while f"attendees-{i}-name" in data or f"attendees-{i}-email" in data:
        rows.append({f: data.get(f"attendees-{i}-{f}", "") for f in fields})
        i += 1
    return rows


def initial_from_quote(workshop, reference: str) -> dict:
    quote = valid_quote(workshop=workshop, reference=reference)
    if quote is None:
        return {}
    return {
        "buyer_name": quote.contact_name,
        "buyer_email": quote.contact_email,
        "organisation": quote.organisation,
        "seat_count": quote.seat_count,
        "voucher_code": quote.voucher.code if quote.voucher_id else "",
        "quote_reference": quote.reference,
    }
