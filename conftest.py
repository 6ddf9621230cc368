import uuid

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery"


def make_user(username, **extra):
    return User.objects.create_user(username=username, password=PASSWORD, **extra)


def token_client(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def staff(db):
    return make_user("sam", is_staff=True)


@pytest.fixture
def alice_api(alice):
    return token_client(alice)


@pytest.fixture
def bob_api(bob):
    return token_client(bob)


@pytest.fixture
def staff_api(staff):
    return token_client(staff)


@pytest.fixture
def anon_api():
    return APIClient()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """Each test counts writes and failed logins under its own keys in the shared Redis."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHE_KEY_PREFIX = prefix
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Templates' {% static %} without a collectstatic manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def reconfigure_pool():
    """Rebuild the default pool with other options for one test, then restore it."""
    original = dict(connection.settings_dict)
    original_options = {**original["OPTIONS"], "pool": dict(original["OPTIONS"]["pool"])}

    def rebuild(**changes):
        connection.close()
        connection.close_pool()
        pool_options = {**original_options["pool"], **changes.pop("pool", {})}
        connection.settings_dict.update(changes)
        connection.settings_dict["OPTIONS"] = {
            **original_options,
            **changes.pop("OPTIONS", {}),
            "pool": pool_options,
        }
        return connection.pool

    yield rebuild
    connection.close()
    connection.close_pool()
    connection.settings_dict.update(original)
    connection.settings_dict["OPTIONS"] = original_options
