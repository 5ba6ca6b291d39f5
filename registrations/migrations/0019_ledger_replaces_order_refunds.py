import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Refunds point at the payment they came out of; an order's refunded amount is read from the ledger."""

    dependencies = [
        ("registrations", "0018_backfill_payment_ledger"),
    ]

    operations = [
        migrations.RemoveField(model_name="refundpart", name="payment"),
        migrations.RenameField(model_name="refundpart", old_name="ledger_payment", new_name="payment"),
        migrations.AlterField(
            model_name="refundpart",
            name="payment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="refund_parts", to="registrations.payment"
            ),
        ),
        migrations.RemoveField(model_name="order", name="refunded_cents"),
    ]
