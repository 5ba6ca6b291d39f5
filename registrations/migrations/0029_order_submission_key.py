# The registration page an order was placed from, so the same page sent twice places one order.
#
# The index is built CONCURRENTLY on PostgreSQL, outside a transaction, as 0023's: a live site keeps
# writing orders meanwhile. Adding a column with a constant default is a catalog change only.

from importlib import import_module

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

_plain_on_sqlite = import_module("registrations.migrations.0023_order_email_any_case")._plain_on_sqlite


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("registrations", "0028_voucher_shared_amount_help"),
        ("workshops", "0008_catalog_rows_base_manager"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="submission_key",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="The registration form's page and answers this order was placed from (a one-way hash of that "
                "page's form token and the answers): the same page sent again, by a second press while Stripe answers, "
                "continues this order instead of placing another.",
                max_length=64,
            ),
        ),
        _plain_on_sqlite(AddIndexConcurrently, migrations.AddIndex)(
            model_name="order",
            index=models.Index(
                condition=models.Q(("submission_key", ""), _negated=True),
                fields=["workshop", "submission_key"],
                name="order_submission_idx",
            ),
        ),
    ]
