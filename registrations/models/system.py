"""Records the site keeps for itself: Stripe events received, the email outbox, seat alerts."""

from django.db import models

from workshops.models import Workshop

from .orders import Order


class StripeEvent(models.Model):
    """One row per Stripe event id: a redelivered event is recognised and does nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="stripe_events")
    outcome = models.CharField(max_length=200, blank=True)
    payload = models.JSONField()
    stripe_payment_intent_id = models.CharField(
        max_length=255, blank=True, help_text="The PaymentIntent the event's object names, if any (indexed)."
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # Events about a payment that arrived before it are found by its PaymentIntent when it arrives.
            models.Index(
                fields=["stripe_payment_intent_id"], condition=~models.Q(stripe_payment_intent_id=""),
                name="stripeevent_payment_intent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class SeatAlert(models.Model):
    """Someone asking to be told when seats free up on a sold-out workshop."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="seat_alerts")
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workshop", "email"], name="seat_alert_once_per_email")]

    def __str__(self) -> str:
        return f"{self.email} for {self.workshop}"


class OutboundEmail(models.Model):
    """Every email the site sends, written in the same transaction as the change that causes it.

    A task delivers it; SMTP failures are retried later. `key` makes queueing the same
    email twice a no-op, and `sent_at` (checked under a row lock) stops a second send.
    """

    key = models.CharField(max_length=200, unique=True)
    to_address = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    html_body = models.TextField(blank=True, help_text="The HTML alternative, made from the same text.")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="outbound_email_unsent_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address}"
