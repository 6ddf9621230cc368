"""What the PostgreSQL server allows, for the connection arithmetic (workers x pool max)."""

from django.db import connection

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
