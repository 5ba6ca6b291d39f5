from django.db import migrations, models


class Migration(migrations.Migration):
    """Codes cover a number of seats (not orders); added seats remember the seat count they were priced for."""

    dependencies = [
        ("registrations", "0016_payment_ledger"),
    ]

    operations = [
        migrations.RenameField(model_name="voucher", old_name="max_uses", new_name="max_seats"),
        migrations.AlterField(
            model_name="voucher",
            name="max_seats",
            field=models.PositiveIntegerField(
                blank=True,
                null=True,
                help_text="Seats the code covers in all, across every order: a team order uses one per seat it discounts. "
                "Blank: unlimited. Scholarship codes cover 1.",
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="voucher_seat_count",
            field=models.PositiveSmallIntegerField(
                default=0, help_text="Seats the code discounts on this order (a code covers a limited number of seats)."
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="priced_for_seat_count",
            field=models.PositiveSmallIntegerField(
                blank=True,
                null=True,
                help_text="For seats added later: the order's seat count their price was worked out for.",
            ),
        ),
    ]
