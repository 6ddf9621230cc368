import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from todos.tests.live import LiveAPIClient, LiveServer

PASSWORD = "correct-horse-battery"

# API tests that take an *_api client run twice: through Django's test client (Django's
# handler, the ORM on Django's connection) and over HTTP to a live uvicorn server, where token
# calls to the CRUD endpoints take the fast lane. The live runs need committed data.
TRANSPORTS = ["django", "live"]
# For tests that look inside this process's Django connection (captured queries, its pool).
django_transport_only = pytest.mark.parametrize("api_transport", ["django"])


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("api_transport") == "live":
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def live_asgi(django_db_setup, django_db_blocker):
    from todoproject.asgi import application

    server = LiveServer(application)
    server.start()
    yield server
    with django_db_blocker.unblock():
        server.stop()


@pytest.fixture(params=TRANSPORTS)
def api_transport(request):
    return request.param


@pytest.fixture
def new_api_client(api_transport, request):
    """A function that makes an unauthenticated client for this test's transport."""
    if api_transport == "live":
        live = request.getfixturevalue("live_asgi")
        return lambda: LiveAPIClient(live.url)
    return APIClient


def make_user(username, **extra):
    return User.objects.create_user(username=username, password=PASSWORD, **extra)


def token_client(new_api_client, user):
    client = new_api_client()
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
def alice_api(new_api_client, alice):
    return token_client(new_api_client, alice)


@pytest.fixture
def bob_api(new_api_client, bob):
    return token_client(new_api_client, bob)


@pytest.fixture
def staff_api(new_api_client, staff):
    return token_client(new_api_client, staff)


@pytest.fixture
def anon_api(new_api_client):
    return new_api_client()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    # Production serves hashed names from collectstatic's manifest; tests have no manifest.
    # (test_static_files.py runs collectstatic itself to check that the manifest builds.)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
