"""Expected failures of the registration services; their messages are shown to the person who acted."""



class RegistrationError(Exception):
    """A problem the buyer can act on; the message is shown to them."""


class RegistrationClosedError(RegistrationError):
    pass


class NotEnoughSeatsError(RegistrationError):
    def __init__(self, seats_left: int):
        self.seats_left = seats_left
        if seats_left <= 0:
            message = "Sorry, this workshop is sold out."
        else:
            message = f"Only {seats_left} seat{'s' if seats_left != 1 else ''} left. Please choose {seats_left} or fewer."
        super().__init__(message)


class OrderNotPayableError(RegistrationError):
    pass


class SameSubmissionError(Exception):
    """The registration page was sent again (a second press while the first was still on its way): its order is
    placed already, and the buyer continues with that one."""

    def __init__(self, order_id: int):
        self.order_id = order_id
        super().__init__(f"Order {order_id} was placed from this page already.")


class InvoiceHoldError(RegistrationError):
    """Paying by invoice is not possible for this request (the invoice share of seats, or one open request each)."""


class NetworkHoldLimitError(RegistrationError):
    """Unpaid card checkouts from the buyer's network already hold as many seats as one network may hold at once."""

    def __init__(self, *, held: int, allowance: int, contact_email: str, renewing: bool = False):
        self.held, self.allowance = held, allowance
        room = max(allowance - held, 0)
        if renewing:
            first = (
                f"Other unpaid card checkouts from your network hold {held} seat{'s' if held != 1 else ''} of this "
                f"workshop just now, and we hold at most {allowance} for one network at a time, so these seats "
                "cannot be held again yet."
            )
        else:
            first = (
                f"Unpaid card checkouts from your network already hold {held} seat{'s' if held != 1 else ''} of this "
                f"workshop, and we hold at most {allowance} for one network at a time"
                + (f", so you can choose up to {room} now." if room else ".")
            )
        super().__init__(
            f"{first} To go on: if some of them are yours, finish paying for them or cancel them (leaving Stripe's "
            "payment page with “Back” releases the seats at once, and unpaid ones lapse after about 30 minutes), choose "
            f"“Invoice my organisation”, or write to us at {contact_email} and we will help."
        )


class SeatChangeError(RegistrationError):
    """A seat change the lead asked for cannot be made; `field` names the form field it concerns."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


class SeatChangesClosedError(SeatChangeError):
    pass


class SeatListError(SeatChangeError):
    """Some people in a pasted or uploaded list cannot be seated; `row_errors` maps their index to why."""

    def __init__(self, message: str, *, row_errors: dict[int, str] | None = None):
        self.row_errors = row_errors or {}
        super().__init__(message, field="people")


class PreworkError(RegistrationError):
    pass


class AttendanceError(Exception):
    """Attendance staff asked for cannot be recorded; the message says why."""


class CertificateError(RegistrationError):
    """No certificate for this seat: not complete yet, or revoked."""


class RefundError(Exception):
    """A refund staff asked for cannot be made; the message says why."""


class RefundChangedError(RefundError):
    """The order is no longer as the confirmation page showed it (paid, grown or refunded meanwhile): nothing changed,
    and staff confirm again what it refunds now."""


class VoucherError(RegistrationError):
    """The code cannot be used; the message goes beside the code field."""


class InvoiceError(Exception):
    """An invoice action staff asked for cannot be done; the message says why."""


class AffinityChoiceError(RegistrationError):
    """An attendee's affinity-group choice cannot be saved (closed, or not one of the workshop's groups)."""


class BreakoutError(Exception):
    """A breakout-room change staff asked for cannot be made; the message says why."""


class ZoomExportError(Exception):
    """The plan cannot be written as a Zoom pre-assignment file (too many rooms or rows, shared emails)."""
