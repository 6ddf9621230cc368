"""Helpers for tests that need requests to really overlap in the database, and to wait for a
state with a deadline rather than for a while."""

import contextlib
import threading
import time

import psycopg
from django.conf import settings
from django.db import connection, connections


def connect(**options):
    """A connection of our own to the test database, outside Django's pool."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"], **options
    )


def wait_for_blocked_backends(conn, count, timeout=20):
    """Until `count` other sessions of this database wait on a lock (`conn` in autocommit:
    pg_stat_activity is a snapshot per transaction)."""
    deadline = time.monotonic() + timeout
    waiting = 0
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()[0]
        if waiting >= count:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"only {waiting} of {count} requests reached the database")


def wait_until(condition, timeout=10, what=None):
    """The first true value of `condition()`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or condition}")
        threading.Event().wait(0.01)
    return value


@contextlib.contextmanager
def replica_alias():
    """A "replica" database, as DATABASE_REPLICA_URL adds it, on the test database's own server,
    connected. Enter it after the test's database fixture: Django's test case must not see it
    (and it lets a test use a database alias it did not declare once that one is connected)."""
    from todos import replica

    # settings.DATABASES is the very dict the connection handler reads.
    settings.DATABASES[replica.ALIAS] = {**connection.settings_dict}
    try:
        connections[replica.ALIAS].connect()
        yield connections[replica.ALIAS]
    finally:
        connections[replica.ALIAS].close()
        connections[replica.ALIAS].close_pool()
        del connections[replica.ALIAS]
        del settings.DATABASES[replica.ALIAS]
