# Orders by email whatever its case: an index on UPPER(buyer_email) replaces the plain one no lookup used.
#
# Built and dropped CONCURRENTLY on PostgreSQL, outside a transaction, so a live site keeps reading and
# writing orders meanwhile (a plain CREATE/DROP INDEX holds a lock every checkout and page would wait on).
# The new index is built before the old one goes. SQLite has no such lock and no CONCURRENTLY.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Upper


def _plain_on_sqlite(concurrent, plain):
    """`concurrent` on PostgreSQL; its ordinary counterpart `plain` elsewhere."""

    class Operation(concurrent):
        def database_forwards(self, app_label, schema_editor, from_state, to_state):
            if schema_editor.connection.vendor != "postgresql":
                return plain.database_forwards(self, app_label, schema_editor, from_state, to_state)
            return super().database_forwards(app_label, schema_editor, from_state, to_state)

        def database_backwards(self, app_label, schema_editor, from_state, to_state):
            if schema_editor.connection.vendor != "postgresql":
                return plain.database_backwards(self, app_label, schema_editor, from_state, to_state)
            return super().database_backwards(app_label, schema_editor, from_state, to_state)

    Operation.__name__ = concurrent.__name__
    return Operation


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("registrations", "0022_pending_returns_and_event_payment_intent"),
        ("workshops", "0006_workshop_invoice_hold_percent"),
    ]

    operations = [
        _plain_on_sqlite(AddIndexConcurrently, migrations.AddIndex)(
            model_name="order",
            index=models.Index(Upper("buyer_email"), name="order_buyer_email_ci_idx"),
        ),
        _plain_on_sqlite(RemoveIndexConcurrently, migrations.RemoveIndex)(
            model_name="order",
            name="order_buyer_email_idx",
        ),
    ]
