from django.db import migrations, models


def untag_earlier_parts(apps, schema_editor):
    # Parts recorded before now were sent without the tag; a retry of one must repeat its first request exactly
    # (Stripe refuses an idempotency key reused with other parameters).
    apps.get_model("registrations", "RefundPart").objects.update(tagged=False)


class Migration(migrations.Migration):
    dependencies = [("registrations", "0025_refund_seats_and_stripe_total")]

    operations = [
        migrations.AddField(
            model_name="refundpart",
            name="tagged",
            field=models.BooleanField(
                default=True,
                help_text="Sent to Stripe with this part's id in the refund's metadata (ledger_part), so a charge's "
                "refunds can tell it apart from a refund made by hand. Parts recorded before that went without it, "
                "and their retries must send the same request.",
            ),
        ),
        migrations.RunPython(untag_earlier_parts, migrations.RunPython.noop),
    ]
