"""Refunds get `made_at` (empty while money owed back waits for Stripe), backfilled from `created_at`; Stripe events get
an indexed PaymentIntent column, backfilled from their stored payloads, so events about a payment that arrived before it
are found by an index lookup."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F

BATCH = 2000


def _text(value) -> str:
    return value if isinstance(value, str) and len(value) <= 255 else ""


def _payment_intent(obj) -> str:
    """What the webhook stores: the object's PaymentIntent (an id or an expanded object), or a paid invoice's."""
    if not isinstance(obj, dict):
        return ""
    value = obj.get("payment_intent")
    intent = _text(value.get("id") if isinstance(value, dict) else value)
    if intent:
        return intent
    payments = obj.get("payments")
    rows = payments.get("data") if isinstance(payments, dict) else None
    for row in rows if isinstance(rows, list) else []:
        payment = row.get("payment") if isinstance(row, dict) else None
        if isinstance(payment, dict) and row.get("status") == "paid":
            value = payment.get("payment_intent")
            intent = _text(value.get("id") if isinstance(value, dict) else value)
            if intent:
                return intent
    return ""


def forward(apps, schema_editor):
    Refund = apps.get_model("registrations", "Refund")
    StripeEvent = apps.get_model("registrations", "StripeEvent")
    Refund.objects.update(made_at=F("created_at"))  # every refund before this was made when it was recorded
    changed = []
    for event in StripeEvent.objects.only("pk", "payload").iterator(chunk_size=BATCH):
        payload = event.payload if isinstance(event.payload, dict) else {}
        data = payload.get("data")
        intent = _payment_intent(data.get("object") if isinstance(data, dict) else None)
        if intent:
            event.stripe_payment_intent_id = intent
            changed.append(event)
        if len(changed) >= BATCH:
            StripeEvent.objects.bulk_update(changed, ["stripe_payment_intent_id"])
            changed = []
    StripeEvent.objects.bulk_update(changed, ["stripe_payment_intent_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("registrations", "0021_order_hold_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="made_at",
            field=models.DateTimeField(
                blank=True, default=django.utils.timezone.now, null=True,
                help_text="When the money went back. Empty while money owed back waits for Stripe to take the refund: it "
                "is reserved (no other refund takes it) and not yet counted as refunded.",
            ),
        ),
        migrations.AddField(
            model_name="stripeevent",
            name="stripe_payment_intent_id",
            field=models.CharField(
                blank=True, help_text="The PaymentIntent the event's object names, if any (indexed).", max_length=255
            ),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="stripeevent",
            index=models.Index(
                condition=models.Q(("stripe_payment_intent_id", ""), _negated=True),
                fields=["stripe_payment_intent_id"],
                name="stripeevent_payment_intent",
            ),
        ),
    ]
