"""CSV files staff download from admin: the roster, the orders (exactly the rows chosen there) and the finance CSV."""

import csv
from collections.abc import Iterable
from datetime import datetime
from datetime import timezone as dt_timezone

from django.http import HttpResponse
from django.utils import timezone

from .models import Order, Seat

# A cell starting with one of these is run as a formula by spreadsheet apps (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    value = value or ""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def dollars(cents: int) -> str:
    """12000 -> "120.00": a number a spreadsheet can add up, exact because cents are integers."""
    sign = "-" if cents < 0 else ""
    whole, rem = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rem:02d}"


def _local(value: datetime | None, zone) -> str:
    return timezone.localtime(value, zone).isoformat(timespec="minutes") if value else ""


def csv_response(*, filename: str, header: list[str], rows: Iterable[list]) -> HttpResponse:
    """UTF-8 with a byte-order mark, so Excel shows accented names correctly; the csv module quotes
    commas, quotes and line breaks."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


ROSTER_HEADER = [
    "Workshop",
    "Attendee",
    "Email",
    "Organisation",
    "Order",
    "Seat",
    "Order status",
    "Pre-work minutes done",
    "Pre-work minutes total",
]


def roster_header(session_count: int) -> list[str]:
    """The roster's columns: one "Attended session n" per session the roster shows, then the certificate."""
    return [*ROSTER_HEADER, *(f"Attended session {n}" for n in range(1, session_count + 1)), "Certificate"]


def roster_rows(seats: Iterable[Seat], *, session_count: int) -> Iterable[list]:
    """Rows for seats from selectors.roster with `session_count` sessions annotated (as the roster screen shows)."""
    for seat in seats:
        order = seat.order
        yield [
            _text(order.workshop.title),
            _text(seat.attendee_name) or "(not named yet)",
            _text(seat.attendee_email),
            _text(order.organisation),
            order.reference,
            seat.position,
            order.get_status_display(),
            seat.prework_minutes_done,
            seat.prework_minutes_total,
            *("yes" if getattr(seat, f"attended_{n}") else "no" for n in range(1, session_count + 1)),
            (f"{seat.certificate_code} (revoked)" if seat.certificate_revoked_at else seat.certificate_code) or "",
        ]


ORDER_HEADER = [
    "Reference",
    "Ordered (workshop time)",
    "Status",
    "Workshop",
    "Purchaser",
    "Purchaser email",
    "Organisation",
    "Role",
    "Seats",
    "Seats refunded",
    "Price tier (min seats)",
    "Unit price (USD)",
    "Order total (USD)",
    "Paid (USD)",
    "Refunded (USD)",
    "Net (USD)",
    "Payments not accepted (USD)",
    "Paid (workshop time)",
    "Stripe payment",
    "Test payment",
    "Payment method",
    "Invoice",
    "Invoice status",
    "PO number",
    "Added to order",
    "Payment needs review",
]


def order_rows(orders: Iterable[Order]) -> Iterable[list]:
    """Rows for orders annotated by selectors.ledger.with_money: every money column is read from the ledger.

    Seats added to an order and merged into it are counted on that order's row (its seats, its payments), so
    their own row shows no seats and no money and the columns add up to what was taken.
    """
    for order in orders:
        zone = order.workshop.tz
        merged = order.status == Order.Status.MERGED
        yield [
            order.reference,
            _local(order.created_at, zone),
            order.get_status_display(),
            _text(order.workshop.title),
            _text(order.buyer_name),
            _text(order.buyer_email),
            _text(order.organisation),
            order.get_role_display(),
            "" if merged else order.seat_count,
            "" if merged else order.refunded_seat_count,
            order.tier_min_seats,
            dollars(order.unit_price_cents),
            "" if merged else dollars(order.total_cents),
            dollars(order.ledger_paid_cents),
            dollars(order.ledger_refunded_cents),
            dollars(order.ledger_net_cents),
            dollars(order.ledger_returned_cents),
            _local(order.paid_at, zone),
            order.stripe_payment_intent_id,
            "yes" if order.is_test_payment else "no",
            order.get_payment_method_display(),
            order.invoice_number,
            order.get_invoice_status_display(),
            _text(order.po_number),
            order.parent.reference if order.parent_id else "",
            "yes" if order.payment_needs_review else "no",
        ]


# Zoom's breakout-room pre-assignment import reads exactly this header, in this order.
ZOOM_HEADER = ["Pre-assign Room Name", "Email Address"]


def zoom_csv_response(*, filename: str, rows: Iterable[tuple[str, str]]) -> HttpResponse:
    """Zoom's pre-assignment file: UTF-8 without a byte-order mark (Zoom would read it as part of the
    header), CRLF lines, and no cell a spreadsheet would run as a formula."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(ZOOM_HEADER)
    writer.writerows([_text(room), _text(email)] for room, email in rows)
    return response


FINANCE_HEADER = [
    "When (UTC)",
    "Type",
    "Amount",
    "Currency",
    "Counts toward revenue",
    "Order",
    "Paid for",
    "Workshop",
    "Purchaser",
    "Organisation",
    "Source",
    "Payment status",
    "Stripe PaymentIntent",
    "Stripe Checkout Session",
    "Stripe Invoice",
    "Stripe refund",
    "Note",
]


def finance_rows(entries: Iterable) -> Iterable[list]:
    """Rows for selectors.finance entries: one per payment and per refund; amounts signed, refunds negative."""
    for entry in entries:
        payment, owner = entry.payment, entry.owner
        yield [
            entry.when.astimezone(dt_timezone.utc).isoformat(timespec="seconds"),
            entry.kind,
            dollars(entry.amount_cents),
            payment.currency.upper(),
            "yes" if entry.counted else "no",
            owner.reference,
            payment.order.reference,
            _text(owner.workshop.title),
            _text(owner.buyer_name),
            _text(owner.organisation),
            payment.get_source_display(),
            payment.get_status_display(),
            payment.stripe_payment_intent_id,
            payment.stripe_checkout_session_id,
            payment.stripe_invoice_id,
            entry.stripe_refund_id,
            _text(entry.refund.reason if entry.refund else payment.note),
        ]
