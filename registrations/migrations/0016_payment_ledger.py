import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The payment ledger: what the site asked for, payments received, refunds tied to payments; review flag."""

    dependencies = [
        ("registrations", "0015_staff_permissions"),
    ]

    operations = [
        migrations.CreateModel(
            name="PaymentRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("checkout", "Checkout Session"), ("invoice", "Invoice")], max_length=10)),
                ("provider_id", models.CharField(max_length=255, unique=True, verbose_name="Stripe id")),
                ("amount_cents", models.PositiveIntegerField()),
                ("currency", models.CharField(max_length=3)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="payment_requests", to="registrations.order"
                    ),
                ),
            ],
            options={"ordering": ["created_at", "pk"]},
        ),
        migrations.CreateModel(
            name="Payment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("amount_cents", models.PositiveIntegerField()),
                ("currency", models.CharField(max_length=3)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("checkout", "Stripe Checkout"),
                            ("invoice", "Invoice paid on Stripe"),
                            ("out_of_band", "Invoice paid outside Stripe (cheque or transfer)"),
                            ("local", "Test payment (no money moved)"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("accepted", "Accepted"),
                            ("refused", "Not accepted: returned in full"),
                            ("review", "Did not match what we asked for: staff review"),
                        ],
                        default="accepted",
                        max_length=10,
                    ),
                ),
                ("stripe_payment_intent_id", models.CharField(blank=True, max_length=255)),
                ("stripe_checkout_session_id", models.CharField(blank=True, max_length=255)),
                ("stripe_invoice_id", models.CharField(blank=True, max_length=255)),
                (
                    "stripe_event_id",
                    models.CharField(blank=True, help_text="The Stripe event that recorded it, if any.", max_length=255),
                ),
                ("note", models.CharField(blank=True, help_text="Why it was not accepted.", max_length=500)),
                ("received_at", models.DateTimeField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "order",
                    models.ForeignKey(
                        help_text="The order, or the seats added later, it paid for.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="registrations.order",
                    ),
                ),
            ],
            options={
                "ordering": ["received_at", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("stripe_payment_intent_id", ""), _negated=True),
                        fields=("stripe_payment_intent_id",),
                        name="payment_once_per_intent",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("stripe_checkout_session_id", ""), _negated=True),
                        fields=("stripe_checkout_session_id",),
                        name="payment_once_per_session",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("stripe_invoice_id", ""), _negated=True),
                        fields=("stripe_invoice_id",),
                        name="payment_once_per_invoice",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="refund",
            name="kind",
            field=models.CharField(
                choices=[
                    ("seats", "Seats refunded"),
                    ("stripe", "Refunded in Stripe's dashboard"),
                    ("returned", "Payment returned: not owed"),
                ],
                default="seats",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="refundpart",
            name="stripe_refund_id",
            field=models.CharField(blank=True, db_index=True, max_length=255),
        ),
        # Filled from `payment` (an order) by 0018; takes its name in 0019.
        migrations.AddField(
            model_name="refundpart",
            name="ledger_payment",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="registrations.payment"
            ),
        ),
        migrations.AlterField(
            model_name="refundpart",
            name="payment",
            field=models.ForeignKey(
                null=True,
                help_text="The order whose payment this was: the order itself, or seats added to it later.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refund_parts",
                to="registrations.order",
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="payment_needs_review",
            field=models.BooleanField(
                default=False,
                help_text="A payment or dispute staff should look at: see the review note and the order's payments.",
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="payment_review_note",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="order",
            name="total_cents",
            field=models.PositiveIntegerField(
                help_text="What the order costs (with seats added later); money taken is in its payments."
            ),
        ),
    ]
