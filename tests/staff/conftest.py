import pytest
from django.contrib.auth.models import Group
from django.test import Client


@pytest.fixture
def role_client(django_user_model):
    """A signed-in staff account (not a superuser) holding one role, as staff are set up in admin."""

    def login(role: str, username: str | None = None) -> Client:
        user = django_user_model.objects.create_user(username or role.lower(), f"{role.lower()}@example.org", "pw",
                                                     is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return login
