"""Orders, their seats, and the codes and quotes an order can be placed with."""

import secrets

from django.db import models
from django.db.models.functions import Upper

from workshops.models import Workshop, validate_time_zone

from ..links import token_url

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_token() -> str:
    return secrets.token_urlsafe(32)


# An erased person's address on the records that stay (staff/services.erase_person). RFC 2606 reserves
# .invalid: nothing is ever delivered there, and the outbox does not try.
ERASED_DOMAIN = "erased.invalid"


def erased_address(kind: str, pk: int) -> str:
    return f"erased-{kind}-{pk}@{ERASED_DOMAIN}"


def is_erased_address(address: str) -> bool:
    return (address or "").strip().lower().endswith(f"@{ERASED_DOMAIN}")


def new_reference() -> str:
    return "ESL-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


CERTIFICATE_CODE_LENGTH = 12


def new_certificate_code() -> str:
    # 31 unambiguous characters (no 0/O, 1/I/L) ^ 12: about 60 bits, not guessable, easy to read aloud.
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(CERTIFICATE_CODE_LENGTH))


VOUCHER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_voucher_code(prefix: str = "") -> str:
    body = "".join(secrets.choice(VOUCHER_ALPHABET) for _ in range(10))
    return f"{prefix}-{body}" if prefix else body


class Voucher(models.Model):
    """A discount or scholarship code, applied on the server after the team tier."""

    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        FIXED = "fixed", "Fixed amount off"

    class AppliesTo(models.TextChoices):
        SEAT = "seat", "Each seat"
        ORDER = "order", "The whole order"

    code = models.CharField(max_length=40, unique=True, help_text="Stored in capitals; buyers may type any case.")
    label = models.CharField(max_length=200, blank=True, help_text="For staff, e.g. “Spring scholarships”.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERCENT)
    percent_off = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1–100, for percent codes.")
    amount_off_cents = models.PositiveIntegerField(null=True, blank=True, help_text="In cents, for fixed codes.")
    applies_to = models.CharField(max_length=10, choices=AppliesTo.choices, default=AppliesTo.ORDER)
    workshop = models.ForeignKey(
        Workshop, null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers", help_text="Blank: any workshop."
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_seats = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Seats the code covers in all, across every order: a team order uses one per seat it discounts. "
        "An amount off the order is shared among these seats (an order gets the share of the seats it covers). "
        "Blank: unlimited (each order gets the whole amount). Scholarship codes cover 1.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="percent", percent_off__gte=1, percent_off__lte=100)
                    | models.Q(kind="fixed", amount_off_cents__gte=1)
                ),
                name="voucher_has_a_valid_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self):
        from django.core.exceptions import ValidationError

        self.code = (self.code or "").strip().upper()
        if self.kind == self.Kind.PERCENT and not (self.percent_off and 1 <= self.percent_off <= 100):
            raise ValidationError({"percent_off": "Give a percentage from 1 to 100."})
        if self.kind == self.Kind.FIXED and not self.amount_off_cents:
            raise ValidationError({"amount_off_cents": "Give the amount off, in dollars."})
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": "Must be after “valid from”."})

    def save(self, *args, **kwargs):
        self.code = (self.code or "").strip().upper()
        super().save(*args, **kwargs)

    def discount_cents(self, *, subtotal_cents: int, seat_count: int, covered_seats: int | None = None) -> int:
        """The discount on an order of `seat_count` seats at one price each, applied to `covered_seats` of them
        (default: all), never more than those seats cost."""
        covered = seat_count if covered_seats is None else max(min(covered_seats, seat_count), 0)
        covered_subtotal = subtotal_cents * covered // seat_count if seat_count else 0
        if self.kind == self.Kind.PERCENT:
            off = (covered_subtotal * self.percent_off + 50) // 100  # round half up to the cent
        elif self.applies_to == self.AppliesTo.SEAT:
            off = self.amount_off_cents * covered
        elif self.max_seats:
            # An amount off the order, for as many seats as the code covers in all: each seat takes its share, so
            # splitting one team into many orders never takes the amount off more than once.
            off = self.amount_off_cents * min(covered, self.max_seats) // self.max_seats
        else:
            off = self.amount_off_cents if covered else 0
        return min(off, covered_subtotal)

    @property
    def description(self) -> str:
        if self.kind == self.Kind.PERCENT:
            return f"{self.percent_off}% off"
        dollars = f"${self.amount_off_cents / 100:,.2f}"
        return f"{dollars} off each seat" if self.applies_to == self.AppliesTo.SEAT else f"{dollars} off the order"


def new_quote_reference() -> str:
    return "Q-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


class Quote(models.Model):
    """A priced quote a district office can attach to its purchase-order request."""

    reference = models.CharField(max_length=16, unique=True, default=new_quote_reference, editable=False)
    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="quotes")
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    organisation = models.CharField(max_length=200)
    seat_count = models.PositiveSmallIntegerField()
    unit_price_cents = models.PositiveIntegerField()
    tier_min_seats = models.PositiveSmallIntegerField()
    subtotal_cents = models.PositiveIntegerField()
    discount_cents = models.PositiveIntegerField(default=0)
    voucher = models.ForeignKey(Voucher, null=True, blank=True, on_delete=models.PROTECT, related_name="quotes")
    total_cents = models.PositiveIntegerField()
    valid_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reference} – {self.organisation} ({self.seat_count} seats)"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PROCESSING = "processing", "Payment processing"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Payment failed"
        NEEDS_REFUND = "needs_refund", "Paid after the hold lapsed: refund due"
        REFUNDED = "refunded", "Refunded"
        MERGED = "merged", "Added to the original order"

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        ADDITION = "addition", "Seats added to a paid order"

    class Role(models.TextChoices):
        TEACHER = "teacher", "Classroom teacher"
        SCHOOL_LEADER = "school_leader", "School leader"
        DISTRICT_LEADER = "district_leader", "District leader"
        SUPPORT = "support", "Counselor or support staff"
        OTHER = "other", "Other"

    class PaymentMethod(models.TextChoices):
        CARD = "card", "Card (Stripe Checkout)"
        INVOICE = "invoice", "Invoice"

    class InvoiceStatus(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open: awaiting payment"
        PAID = "paid", "Paid"
        VOID = "void", "Void"
        UNCOLLECTIBLE = "uncollectible", "Uncollectible"

    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    workshop = models.ForeignKey(Workshop, on_delete=models.PROTECT, related_name="orders")
    buyer_name = models.CharField(max_length=200)
    buyer_email = models.EmailField()
    organisation = models.CharField("school or district", max_length=200)
    role = models.CharField(max_length=32, choices=Role.choices)
    buyer_attends = models.BooleanField(default=True)
    seat_count = models.PositiveSmallIntegerField()
    refunded_seat_count = models.PositiveSmallIntegerField(default=0)
    unit_price_cents = models.PositiveIntegerField()
    subtotal_cents = models.PositiveIntegerField(default=0, help_text="Seats × unit price, before any discount.")
    discount_cents = models.PositiveIntegerField(default=0)
    voucher = models.ForeignKey(Voucher, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    quote = models.ForeignKey(Quote, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    voucher_seat_count = models.PositiveSmallIntegerField(
        default=0, help_text="Seats the code discounts on this order (a code covers a limited number of seats)."
    )
    total_cents = models.PositiveIntegerField(help_text="What the order costs (with seats added later); money taken is in its payments.")
    tier_min_seats = models.PositiveSmallIntegerField()
    price_tiers = models.JSONField(
        null=True, blank=True, editable=False,
        help_text="The workshop's price tiers when the order was placed ([min seats, cents per seat] rows): seats kept "
        "after a seat refund cost at least their price under these. Empty before 0030: today's tiers are used.",
    )
    voucher_terms = models.JSONField(
        null=True, blank=True, editable=False,
        help_text="The code's terms when the order was placed, kept for the same reason. Empty: the code as it is now.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    hold_expires_at = models.DateTimeField()
    checkout_attempts = models.PositiveSmallIntegerField(default=0)
    is_test_payment = models.BooleanField(default=False)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_checkout_url = models.TextField(blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it expired, was cancelled or failed.")
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    staff_note = models.TextField(blank=True)
    payment_needs_review = models.BooleanField(
        default=False, help_text="A payment or dispute staff should look at: see the review note and the order's payments."
    )
    payment_review_note = models.TextField(blank=True)
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="The buyer's own time zone, from their browser; emails show their time too."
    )
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CARD)
    billing_name = models.CharField("billing contact", max_length=200, blank=True)
    billing_email = models.EmailField("billing contact email", blank=True)
    billing_line1 = models.CharField("address line 1", max_length=200, blank=True)
    billing_line2 = models.CharField("address line 2", max_length=200, blank=True)
    billing_city = models.CharField("city", max_length=100, blank=True)
    billing_state = models.CharField("state", max_length=100, blank=True)
    billing_postal_code = models.CharField("postal code", max_length=20, blank=True)
    billing_country = models.CharField("country", max_length=2, blank=True, default="US")
    po_number = models.CharField("purchase-order number", max_length=100, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_invoice_id = models.CharField(max_length=255, blank=True, db_index=True)
    invoice_number = models.CharField(max_length=100, blank=True)
    invoice_status = models.CharField(max_length=20, choices=InvoiceStatus.choices, blank=True)
    invoice_due_at = models.DateTimeField(null=True, blank=True)
    stripe_invoice_url = models.TextField("hosted invoice page", blank=True)
    invoice_paid_out_of_band = models.BooleanField(
        default=False, help_text="Paid outside Stripe (e.g. a cheque): a refund goes back the same way."
    )
    invoice_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PURCHASE)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="additions",
        help_text="For seats added later: the paid order they join once paid.",
    )
    priced_for_seat_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For seats added later: the order's seat count their price was worked out for."
    )
    hold_source = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="A card checkout placed from the registration form: a keyed hash of the network address it came "
        "from (never the address), so that network's unpaid holds can be capped. The daily purge clears it once the hold is over.",
    )
    submission_key = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="The registration form's page and answers this order was placed from (a one-way hash of that "
        "page's form token and the answers): the same page sent again, by a second press while Stripe answers, "
        "continues this order instead of placing another.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The order a registration page placed, looked up under the workshop lock when that page is sent again.
            models.Index(fields=["workshop", "submission_key"], condition=~models.Q(submission_key=""), name="order_submission_idx"),
            # Seats one network's unpaid card checkouts hold (selectors.card_seats_held_from), under the same lock.
            models.Index(
                fields=["workshop", "hold_source", "hold_expires_at"],
                condition=models.Q(status="pending") & ~models.Q(hold_source=""),
                name="order_hold_source_idx",
            ),
            # Seats taken per workshop (selectors.seats_taken, under the workshop lock at checkout):
            # the seat columns are in the index so PostgreSQL answers from it alone (index-only scan).
            models.Index(
                fields=["workshop", "status", "hold_expires_at", "seat_count", "refunded_seat_count"],
                name="order_seats_taken_idx",
            ),
            # Orders by email, whatever its case (`buyer_email__iexact` is UPPER(buyer_email) = UPPER(%s)): the
            # already-registered check on every checkout start, lost links and erasure.
            models.Index(Upper("buyer_email"), name="order_buyer_email_ci_idx"),
        ]
        # Money actions need their own permission, never just "change order" (staff/roles.py).
        permissions = [
            ("refund_order", "Can refund orders and seats through Stripe"),
            ("mark_invoice_paid", "Can mark an invoice paid out of band"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seat_count__gte=1), name="order_has_seats"),
            models.CheckConstraint(
                condition=models.Q(refunded_seat_count__lte=models.F("seat_count")), name="order_refunds_within_seats"
            ),
        ]

    def __str__(self) -> str:
        seats = f"{self.seat_count} seat{'s' if self.seat_count != 1 else ''}"
        if self.refunded_seat_count:  # the admin title and breadcrumbs: "8 seats" alone reads as 8 still held
            seats += f", {self.refunded_seat_count} refunded"
        return f"{self.reference} – {self.buyer_name} ({seats})"

    def get_absolute_url(self) -> str:
        # Seats added to a paid order are shown, and paid for, on that order's page.
        token = self.parent.token if self.parent_id else self.token
        return token_url("registrations:order_detail", token)

    @property
    def active_seat_count(self) -> int:
        return self.seat_count - self.refunded_seat_count

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID

    @property
    def is_team(self) -> bool:
        return self.seat_count > 1

    @property
    def is_open_for_payment(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_invoiced(self) -> bool:
        return self.payment_method == self.PaymentMethod.INVOICE

    @property
    def payment_label(self) -> str:
        """How the order is paid, as its badge and the orders list say: "Card", "Invoice", "Test payment"
        (a card payment on a server without a Stripe key), "Invoice (test)" or "No payment" (a 100 % code)."""
        if self.total_cents == 0:
            return "No payment"
        if self.is_invoiced:
            return "Invoice (test)" if self.is_test_payment else "Invoice"
        return "Test payment" if self.is_test_payment else "Card"

    @property
    def billing_address_lines(self) -> list[str]:
        city = " ".join(part for part in (f"{self.billing_city}," if self.billing_city else "", self.billing_state, self.billing_postal_code) if part)
        return [line for line in (self.billing_line1, self.billing_line2, city, self.billing_country) if line]


class Seat(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REFUNDED = "refunded", "Refunded"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="seats")
    position = models.PositiveSmallIntegerField()
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    attendee_name = models.CharField(max_length=200, blank=True)
    attendee_email = models.EmailField(blank=True)
    needs_captions = models.BooleanField(default=False)
    needs_interpreter = models.BooleanField(default=False)
    access_note = models.CharField("other access needs", max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    welcome_sent_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="The attendee's own time zone (an IANA name such as America/New_York), chosen on their seat page; "
        "their page and emails show their time too.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "position"]
        constraints = [models.UniqueConstraint(fields=["order", "position"], name="seat_unique_position")]
        indexes = [models.Index(fields=["attendee_email"], name="seat_attendee_email_idx")]
        # Access needs are health-adjacent: staff without this permission never see them in admin.
        permissions = [("view_access_needs", "Can see attendees' access needs")]

    def __str__(self) -> str:
        return f"Seat {self.position} of {self.order.reference}: {self.attendee_name or 'not named yet'}"

    def get_absolute_url(self) -> str:
        return token_url("registrations:seat_detail", self.token)

    @property
    def is_named(self) -> bool:
        return bool(self.attendee_name and self.attendee_email)

    @property
    def reader_time_zone(self) -> str:
        """The attendee's own zone: theirs if they set it, else the buyer's when the seat is the buyer's."""
        if self.time_zone:
            return self.time_zone
        if self.attendee_email and self.attendee_email.lower() == self.order.buyer_email.lower():
            return self.order.time_zone
        return ""

    @property
    def has_access_needs(self) -> bool:
        return self.needs_captions or self.needs_interpreter or bool(self.access_note)
