"""What is bought and what follows from it; one module per area, all importable from registrations.models."""

from .affinity import AffinityChoice, BreakoutPlacement, BreakoutPlan
from .learning import Attendance, Certificate, PreworkCompletion, ReminderSent
from .ledger import Payment, PaymentRequest, Refund, RefundPart
from .orders import (
    CERTIFICATE_CODE_LENGTH,
    ERASED_DOMAIN,
    REFERENCE_ALPHABET,
    VOUCHER_ALPHABET,
    Order,
    Quote,
    Seat,
    Voucher,
    erased_address,
    is_erased_address,
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
    "ERASED_DOMAIN",
    "REFERENCE_ALPHABET",
    "VOUCHER_ALPHABET",
    "AffinityChoice",
    "Attendance",
    "BreakoutPlacement",
    "BreakoutPlan",
    "Certificate",
    "Order",
    "OutboundEmail",
    "Payment",
    "PaymentRequest",
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
    "erased_address",
    "is_erased_address",
    "new_certificate_code",
    "new_quote_reference",
    "new_reference",
    "new_token",
    "new_voucher_code",
]
