"""A migration operation that gives staff roles (groups) permissions, and takes them back when reversed.

Migrations import it the way they import Django's own operations; it uses only the historical
models the migration hands it, never the project's current ones:

    from staff.operations import GrantPermissions

    operations = [GrantPermissions({"Facilitator": ["cohorts.view_affinitygroup"]})]

"*" as a role's list means every permission that exists.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def ensure_permissions(apps, using: str) -> None:
    """Create every model's permissions now: Django makes them only after all migrations have run."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        app_config.models_module = None


def _permissions(apps, names, using: str) -> list:
    Permission = apps.get_model("auth", "Permission")
    if names == "*":
        return list(Permission.objects.using(using).all())
    found = []
    for name in names:
        app_label, _, codename = name.partition(".")
        permission = Permission.objects.using(using).filter(content_type__app_label=app_label, codename=codename).first()
        if permission is None:
            raise ValueError(f"No permission {name!r}: check the app label and codename, and the migration's dependencies.")
        found.append(permission)
    return found


class GrantPermissions(migrations.RunPython):
    """Give each named group these permissions (creating the group); reversing removes them again."""

    def __init__(self, grants: dict[str, list[str] | str]):
        self.grants = grants
        super().__init__(self._grant, self._revoke)

    def deconstruct(self):
        return self.__class__.__qualname__, [self.grants], {}

    def describe(self):
        return f"Grant permissions to {', '.join(self.grants)}"

    def _grant(self, apps, schema_editor):
        using = schema_editor.connection.alias
        ensure_permissions(apps, using)
        Group = apps.get_model("auth", "Group")
        for role, names in self.grants.items():
            group, _ = Group.objects.using(using).get_or_create(name=role)
            group.permissions.add(*_permissions(apps, names, using))

    def _revoke(self, apps, schema_editor):
        using = schema_editor.connection.alias
        Group = apps.get_model("auth", "Group")
        for role, names in self.grants.items():
            group = Group.objects.using(using).filter(name=role).first()
            if group is None:
                continue
            group.permissions.remove(*_permissions(apps, names, using))
            if not group.permissions.exists() and not group.user_set.exists():
                group.delete()
