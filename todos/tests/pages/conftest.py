import pytest
from django.contrib.auth.models import Permission
from django.test import Client


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def grant_todo_admin(user):
    """What a staff member who runs todos needs: every todo permission, and seeing users (for
    the owner autocomplete)."""
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="todos"),
        Permission.objects.get(codename="view_user"),
    )
    return user


@pytest.fixture
def alice_client(alice):
    return logged_in(alice)


@pytest.fixture
def bob_client(bob):
    return logged_in(bob)


@pytest.fixture
def staff_client(staff):
    return logged_in(grant_todo_admin(staff))
