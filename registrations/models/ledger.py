"""The payment ledger: what the site asked Stripe for, every payment received, every refund and the payment it came out of."""

from django.db import models
from django.utils import timezone

from .orders import Order


class PaymentRequest(models.Model):
    """A Checkout Session or Invoice the site created for an order, with the amount and currency it asked for.

    A payment is accepted only from one of these, for exactly that amount and currency; anything
    else is kept for staff to review.
    """

    class Kind(models.TextChoices):
        CHECKOUT = "checkout", "Checkout Session"
        INVOICE = "invoice", "Invoice"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payment_requests")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    provider_id = models.CharField("Stripe id", max_length=255, unique=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.provider_id} for {self.order.reference}"


class Payment(models.Model):
    """Money received: one Stripe PaymentIntent, a paid invoice, a cheque, or a local test payment."""

    class Source(models.TextChoices):
        CHECKOUT = "checkout", "Stripe Checkout"
        INVOICE = "invoice", "Invoice paid on Stripe"
        OUT_OF_BAND = "out_of_band", "Invoice paid outside Stripe (cheque or transfer)"
        LOCAL = "local", "Test payment (no money moved)"

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REFUSED = "refused", "Not accepted: returned in full"
        REVIEW = "review", "Did not match what we asked for: staff review"

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", help_text="The order, or the seats added later, it paid for."
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=12, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True)
    stripe_invoice_id = models.CharField(max_length=255, blank=True)
    stripe_event_id = models.CharField(max_length=255, blank=True, help_text="The Stripe event that recorded it, if any.")
    stripe_refunded_cents = models.PositiveIntegerField(
        default=0,
        help_text="The most Stripe has reported refunded from this charge (charge.refunded). What the ledger counts as "
        "refunded, plus its seat refunds waiting on Stripe's answer, explains it; the rest was refunded in Stripe's dashboard.",
    )
    stripe_refund_failed_cents = models.PositiveIntegerField(
        default=0,
        help_text="Refunds of this charge that Stripe reported failed (refund.failed: the money came back to the Stripe "
        "balance). Once any has, a charge.refunded event is checked against the charge's refunds as they stand, since "
        "its total may be from before the failure.",
    )
    note = models.CharField(max_length=500, blank=True, help_text="Why it was not accepted.")
    received_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            # One row per money movement, however often Stripe (or the success page) reports it.
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id"], condition=~models.Q(stripe_payment_intent_id=""), name="payment_once_per_intent"
            ),
            models.UniqueConstraint(
                fields=["stripe_checkout_session_id"], condition=~models.Q(stripe_checkout_session_id=""), name="payment_once_per_session"
            ),
            models.UniqueConstraint(
                fields=["stripe_invoice_id"], condition=~models.Q(stripe_invoice_id=""), name="payment_once_per_invoice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.reference} {self.get_source_display().lower()} {self.reference or self.pk}"

    @property
    def reference(self) -> str:
        return self.stripe_payment_intent_id or self.stripe_invoice_id or self.stripe_checkout_session_id

    @property
    def is_local(self) -> bool:
        return self.source == self.Source.LOCAL


class Refund(models.Model):
    """Money given back: seats refunded by staff, a refund made in Stripe's dashboard, or a payment returned."""

    class Kind(models.TextChoices):
        SEATS = "seats", "Seats refunded"
        STRIPE = "stripe", "Refunded in Stripe's dashboard"
        RETURNED = "returned", "Payment returned: not owed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SEATS)
    seat_count = models.PositiveSmallIntegerField()
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    withheld_cents = models.PositiveIntegerField(
        default=0,
        help_text="Of the refunded seats' share of what the order kept, what stays with the order because the seats it "
        "keeps cost more at the price for that many seats (a team below its team size pays the single-seat price).",
    )
    pricing_note = models.CharField(
        max_length=300, blank=True, help_text="Why the amount is what it is, as staff and the buyer read it."
    )
    stripe_refund_id = models.CharField(max_length=255, blank=True, db_index=True)
    seats = models.ManyToManyField(
        "registrations.Seat", blank=True, related_name="refunds", help_text="The seats staff refunded (kind seats)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    made_at = models.DateTimeField(
        null=True, blank=True, default=timezone.now,
        help_text="When the money went back. Empty while money owed back waits for Stripe to take the refund: it is "
        "reserved (no other refund takes it) and not yet counted as refunded.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        dollars, cents = divmod(self.amount_cents, 100)
        return f"Refund of ${dollars:,}.{cents:02d} on {self.order.reference}"

    @property
    def is_pending(self) -> bool:
        """Money owed back that Stripe has not taken yet (the worker is retrying)."""
        return self.made_at is None


class RefundPart(models.Model):
    """How much of a refund came out of one payment."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="parts")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refund_parts")
    amount_cents = models.PositiveIntegerField()
    stripe_refund_id = models.CharField(max_length=255, blank=True, db_index=True)
    tagged = models.BooleanField(
        default=True,
        help_text="Sent to Stripe with this part's id in the refund's metadata (ledger_part), so a charge's refunds "
        "can tell it apart from a refund made by hand. Parts recorded before that went without it, and their retries "
        "must send the same request.",
    )

    def __str__(self) -> str:
        return f"{self.amount_cents} cents from {self.payment}"
