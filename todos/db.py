"""What the PostgreSQL server allows, for the connection arithmetic (workers x pool max); and
how quickly the pool reconnects after an outage."""

from django.db import connection
from psycopg_pool.base import AttemptWithBackoff

LIMITS_SQL = """
    SELECT
        current_setting('max_connections')::int,
        current_setting('superuser_reserved_connections')::int
          + coalesce(current_setting('reserved_connections', true)::int, 0),
        (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')
"""


def server_connection_limits(using=connection):
    with using.cursor() as cursor:
        cursor.execute(LIMITS_SQL)
        max_connections, reserved, current = cursor.fetchone()
    return {
        "max_connections": max_connections,
        "reserved_connections": reserved,
        "available_connections": max_connections - reserved,
        "current_connections": current,
    }


def retry_connections_every_second():
    """psycopg_pool retries a failed connection after 1, 2, 4, 8... seconds, up to its
    reconnect_timeout (300 s): after a 20 s database outage the pool waited 8 s more before it
    tried again. Retry every second (with its 10% jitter) instead, for the sync and the async
    pool alike, so the service is back about a second after the database. psycopg_pool has no
    setting for this; its class attribute is the only handle (check it when upgrading)."""
    AttemptWithBackoff.DELAY_BACKOFF = 1.0
