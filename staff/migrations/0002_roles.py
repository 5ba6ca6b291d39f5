"""The staff roles as groups, each with only the permissions it needs (the table is staff/roles.py).

A frozen copy of that table: later changes to a role are new migrations with GrantPermissions.
Depends on the latest migration of every app whose permissions it names.
"""

from django.db import migrations

from staff.operations import GrantPermissions

COORDINATOR = [
    "workshops.add_workshop", "workshops.change_workshop", "workshops.view_workshop",
    "workshops.add_session", "workshops.change_session", "workshops.delete_session", "workshops.view_session",
    "workshops.add_preworkmodule", "workshops.change_preworkmodule", "workshops.delete_preworkmodule",
    "workshops.view_preworkmodule",
    "workshops.add_preworkfile", "workshops.change_preworkfile", "workshops.delete_preworkfile", "workshops.view_preworkfile",
    "support.change_policypage", "support.view_policypage",
    "workshops.add_pricetier", "workshops.change_pricetier", "workshops.delete_pricetier", "workshops.view_pricetier",
    "workshops.add_affinitygroup", "workshops.change_affinitygroup", "workshops.delete_affinitygroup",
    "workshops.view_affinitygroup",
    "workshops.add_affinityfacilitator", "workshops.change_affinityfacilitator", "workshops.delete_affinityfacilitator",
    "workshops.view_affinityfacilitator",
    "registrations.view_breakout_plan", "registrations.move_breakout_rooms",
    "registrations.change_rosterseat", "registrations.view_rosterseat",
    "registrations.change_seat", "registrations.view_seat", "registrations.view_access_needs",
    "registrations.view_attendance", "registrations.view_preworkcompletion",
    "registrations.change_certificate", "registrations.view_certificate",
    "registrations.view_seatalert",
    "cohorts.add_cohort", "cohorts.change_cohort", "cohorts.view_cohort",
    "cohorts.add_cohorttouchpoint", "cohorts.change_cohorttouchpoint", "cohorts.delete_cohorttouchpoint",
    "cohorts.view_cohorttouchpoint",
    "cohorts.add_waitlistentry", "cohorts.change_waitlistentry", "cohorts.view_waitlistentry",
    "cohorts.view_waitliststatuschange",
]

FINANCE = [
    "registrations.change_order", "registrations.view_order",
    "registrations.refund_order", "registrations.mark_invoice_paid",
    "registrations.view_refund", "registrations.view_seat",
    "registrations.add_voucher", "registrations.change_voucher", "registrations.view_voucher",
    "registrations.view_quote", "registrations.view_workshopdashboard", "registrations.view_stripeevent",
]

FACILITATOR = ["registrations.view_own_roster", "registrations.view_access_needs", "registrations.view_own_breakout_rooms"]


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auditlog", "0017_add_actor_email"),
        ("workshops", "0005_workshop_facilitators"),
        ("registrations", "0015_staff_permissions"),
        ("support", "0002_default_policy_pages"),
        ("cohorts", "0002_cohort_offering_and_order"),
        ("guard", "0001_rate_limit_cache"),
        ("staff", "0001_erasure"),
    ]

    operations = [
        GrantPermissions(
            {"Coordinator": COORDINATOR, "Finance": FINANCE, "Facilitator": FACILITATOR, "Administrator": "*"}
        ),
    ]
