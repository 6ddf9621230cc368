"""Helpers for tests that need requests to really overlap in the database."""

import threading
import time

import psycopg
from django.db import connection


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
