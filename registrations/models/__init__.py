"""What is bought and what follows from it; one module per area, all importable from registrations.models."""

from .affinity import AffinityChoice, BreakoutPlacement, BreakoutPlan
from .learning import Attendance, Certificate, PreworkCompletion, ReminderSent
from .orders import (
    CERTIFICATE_CODE_LENGTH,
    REFERENCE_ALPHABET,
    VOUCHER_ALPHABET,
    Order,
    Quote,
    Refund,
    RefundPart,
    Seat,
    Voucher,
    new_certificate_code,
    new_quote_reference,
    new_reference,
    new_token,
    new_voucher_code,
)
from .proxies import RosterSeat, WorkshopDashboard
from .system import OutboundEmail, SeatAlert, StripeEvent

__all__ = [
    "CERTIFICATE_CODE_LENGTH",
    "REFERENCE_ALPHABET",
    "VOUCHER_ALPHABET",
    "AffinityChoice",
    "Attendance",
    "BreakoutPlacement",
    "BreakoutPlan",
    "Certificate",
    "Order",
    "OutboundEmail",
    "PreworkCompletion",
    "Quote",
    "Refund",
    "RefundPart",
    "ReminderSent",
    "RosterSeat",
    "Seat",
    "SeatAlert",
    "StripeEvent",
    "Voucher",
    "WorkshopDashboard",
    "new_certificate_code",
    "new_quote_reference",
    "new_reference",
    "new_token",
    "new_voucher_code",
]
