import datetime as dt
import io
import logging
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_save
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from todos.api import throttling
from todos.request_log import JsonLines
from todos.tests.live import LiveAPIClient, LiveServer

PASSWORD = "correct-horse-battery"

# API tests that take an *_api client run twice: through Django's test client (Django's
# handler, the ORM on Django's connection) and over HTTP to a live uvicorn server, where token
# calls to the CRUD endpoints take the fast lane. The live runs need committed data.
TRANSPORTS = ["django", "live"]
# For tests that look inside this process's Django connection (captured queries, its pool).
django_transport_only = pytest.mark.parametrize("api_transport", ["django"])


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


class LogLines(logging.Handler):
    """Every log record of this process, as the console handler writes it."""

    def __init__(self):
        super().__init__()
        self.lines = []
        self.setFormatter(JsonLines())

    def emit(self, record):
        self.lines.append(self.format(record))


# The secrets of this run: the test users' password, every token and session key made.
SECRETS = {PASSWORD}


def remember_secret(sender, instance, **kwargs):
    SECRETS.add(instance.key if sender is Token else instance.session_key)


@pytest.fixture(scope="session")
def log_handler():
    import todoproject.asgi  # noqa: F401  (its django.setup() replaces the root's handlers)

    handler = LogLines()
    post_save.connect(remember_secret, sender=Token, weak=False)
    post_save.connect(remember_secret, sender=Session, weak=False)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def log_lines(log_handler):
    """The log lines of this process during the test."""
    root = logging.getLogger()
    if log_handler not in root.handlers:  # django.setup() (asgi.py's import) resets the root's
        root.addHandler(log_handler)
    log_handler.lines.clear()
    return log_handler.lines


@pytest.fixture(autouse=True)
def no_secret_is_logged(log_lines):
    """In the whole suite, no log line may carry a password, a token or a session key."""
    yield
    leaked = [line for line in log_lines for secret in SECRETS if secret in line]
    assert not leaked, f"a secret was logged: {leaked[:3]}"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """Each test counts writes and failed logins under its own keys in the shared Redis."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHE_KEY_PREFIX = prefix
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}


class Clock:
    """The throttles' clock (todos.api.throttling.clock), standing still until moved."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


# 30 s into a minute, a quarter of an hour and an hour: no test's writes straddle the end of a
# window, and the wait is known (30 s in a /min window, 870 in /15min, 3570 in /hour).
THROTTLE_NOW = dt.datetime(2026, 12, 1, 12, 0, 30, tzinfo=dt.UTC).timestamp()


@pytest.fixture(autouse=True)
def throttle_clock(monkeypatch):
    """The write throttle and the failed-login bound read this clock, in this process (the live
    server's thread included); `throttle_clock.advance(seconds)` moves it."""
    clock = Clock(THROTTLE_NOW)
    monkeypatch.setattr(throttling, "clock", clock)
    return clock


# --pgbouncer: the API tests again, with the app's connections through a local PgBouncer in
# transaction mode (bin/test runs both). A test is an API test when it uses an API client fixture
# (alice_api, anon_api, ...) or the pgbouncer fixture, or is marked both_passes (it puts a
# PgBouncer of its own in front of its servers), and is not marked direct_only.


def pytest_addoption(parser):
    parser.addoption(
        "--pgbouncer",
        action="store_true",
        help="run the API tests through a local PgBouncer in transaction mode (with DB_PGBOUNCER=1)",
    )


def pytest_configure(config):
    if config.getoption("pgbouncer") and not settings.DB_PGBOUNCER:
        raise pytest.UsageError("--pgbouncer runs the settings of DB_PGBOUNCER=1: set it too")


def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("api_transport") == "live":
            item.add_marker(pytest.mark.django_db(transaction=True))

    def through_pgbouncer(item):
        uses = set(item.fixturenames)
        api = (
            "pgbouncer" in uses
            or any(name.endswith("_api") for name in uses)
            or item.get_closest_marker("both_passes") is not None
        )
        return api and not item.get_closest_marker("direct_only")

    def runs_in_this_pass(item):
        if config.getoption("pgbouncer"):
            return through_pgbouncer(item)
        return "pgbouncer" not in item.fixturenames

    config.hook.pytest_deselected(items=[item for item in items if not runs_in_this_pass(item)])
    items[:] = [item for item in items if runs_in_this_pass(item)]


@pytest.fixture(scope="session")
def django_db_setup(request, django_db_setup, django_db_blocker):
    """With --pgbouncer the test database is still created and migrated directly (CREATE
    DATABASE and concurrent index builds cannot go through transaction pooling); then the role
    gets its settings and every app connection goes through PgBouncer until the session ends."""
    if not request.config.getoption("pgbouncer"):
        yield None
        return
    from todos.tests.pgbouncer import LocalPgBouncer

    db = connection.settings_dict
    direct = {"HOST": db["HOST"], "PORT": db["PORT"]}
    with django_db_blocker.unblock():
        call_command("configure_role", stdout=io.StringIO())
        bouncer = LocalPgBouncer(
            server_host=db["HOST"],
            server_port=db["PORT"],
            user=db["USER"],
            password=db["PASSWORD"],
        )
        bouncer.start()
        connection.close()
        connection.close_pool()
        db.update(HOST="127.0.0.1", PORT=str(bouncer.port))
    yield bouncer
    with django_db_blocker.unblock():
        connection.close()
        connection.close_pool()
        db.update(direct)
    bouncer.stop()  # before the test database is dropped: PgBouncer holds connections to it


@pytest.fixture
def pgbouncer(request, django_db_setup):
    """The local PgBouncer the app's connections go through; these tests run only in the
    --pgbouncer pass of bin/test."""
    return django_db_setup


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    # Production serves hashed names from collectstatic's manifest; tests have no manifest.
    # (test_static_files.py runs collectstatic itself to check that the manifest builds.)
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
