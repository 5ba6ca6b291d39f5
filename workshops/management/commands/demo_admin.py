"""`manage.py demo_admin`: a local admin user with a freshly generated password."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or reset the local 'admin' superuser with a freshly generated password, and print it."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):

        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@localhost", "is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Staff admin: {settings.LOCAL_SITE_URL}/admin/\n  username: {username}\n  password: {password}\n"
                "  (a new password is generated every time you run `make run`)\n"
            )
        )
