"""The staff roles and exactly the permissions each holds: the table the README documents and the tests check.

Roles are Django groups; a staff account gets one or more of them in admin (Users → Groups). The
groups are created and filled by migrations (staff/migrations/0002_roles.py) through
`staff.operations.GrantPermissions`. To give a role a permission later (a new model, a new action):

1. add "app_label.codename" to the role below, and
2. add a migration with `GrantPermissions({"Role": ["app_label.codename"]})` (see the README,
   "Staff roles"). tests/staff/test_roles.py fails until the database and this table agree.

The affinity-group permissions (issue 16) are in the first roles migration itself, which came after them.

The Administrator holds every permission, including ones added later: after each `migrate` the
group is given any permission it does not have yet (staff/apps.py).
"""

ADMINISTRATOR = "Administrator"
COORDINATOR = "Coordinator"
FINANCE = "Finance"
FACILITATOR = "Facilitator"

ALL_PERMISSIONS = "*"


def _crud(app: str, model: str, actions: str = "add change view") -> list[str]:
    return [f"{app}.{action}_{model}" for action in actions.split()]


ROLES: dict[str, list[str] | str] = {
    # Workshops and sessions, the roster and attendance, certificates, the waitlist and the course.
    COORDINATOR: [
        *_crud("workshops", "workshop"),
        *_crud("workshops", "session", "add change delete view"),
        *_crud("workshops", "preworkmodule", "add change delete view"),
        *_crud("workshops", "preworkfile", "add change delete view"),
        *_crud("support", "policypage", "change view"),
        *_crud("workshops", "pricetier", "add change delete view"),
        *_crud("workshops", "affinitygroup", "add change delete view"),
        *_crud("workshops", "affinityfacilitator", "add change delete view"),
        "registrations.view_breakout_plan",
        "registrations.move_breakout_rooms",
        *_crud("registrations", "rosterseat", "change view"),
        *_crud("registrations", "seat", "change view"),
        "registrations.view_access_needs",
        "registrations.view_attendance",
        "registrations.view_preworkcompletion",
        *_crud("registrations", "certificate", "change view"),
        "registrations.view_seatalert",
        *_crud("cohorts", "cohort"),
        *_crud("cohorts", "cohorttouchpoint", "add change delete view"),
        *_crud("cohorts", "waitlistentry"),
        "cohorts.view_waitliststatuschange",
    ],
    # Orders, refunds, invoices, codes, quotes, the money dashboard and the exports from those screens.
    # Seats without anyone's access needs.
    FINANCE: [
        *_crud("registrations", "order", "change view"),
        "registrations.refund_order",
        "registrations.mark_invoice_paid",
        "registrations.view_refund",
        "registrations.view_payment",
        "registrations.view_seat",
        *_crud("registrations", "voucher"),
        "registrations.view_quote",
        "registrations.view_workshopdashboard",
        "registrations.view_stripeevent",
    ],
    # Read-only: the roster of the workshops they lead (Workshop.facilitators) or whose affinity groups they
    # facilitate, with access needs; the breakout rooms of their own groups.
    FACILITATOR: [
        "registrations.view_own_roster",
        "registrations.view_access_needs",
        "registrations.view_own_breakout_rooms",
    ],
    ADMINISTRATOR: ALL_PERMISSIONS,
}


def give_administrator_every_permission(*, using: str = "default", **kwargs) -> None:
    """post_migrate: the Administrator role also holds permissions created since its migration ran."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.using(using).filter(name=ADMINISTRATOR).first()
    if group is not None:
        group.permissions.add(*Permission.objects.using(using).exclude(group=group))
