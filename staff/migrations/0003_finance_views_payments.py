"""Finance reads the payment ledger (registrations.Payment) in admin."""

from django.db import migrations

from staff.operations import GrantPermissions


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_roles"),
        ("registrations", "0019_ledger_replaces_order_refunds"),
    ]

    operations = [GrantPermissions({"Finance": ["registrations.view_payment"]})]
