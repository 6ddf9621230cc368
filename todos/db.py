"""The connection arithmetic, in one place: what one worker process opens, what this node may open
in all, and what the PostgreSQL server allows. The system check todos.W001, `manage.py serve` and
the pool-status view all count through these functions. And how quickly the pools reconnect after
an outage."""

from django.conf import settings
from django.db import connection
from psycopg_pool.base import AttemptWithBackoff

LIMITS_SQL = """
    SELECT
        current_setting('max_connections')::int,
        current_setting('superuser_reserved_connections')::int
          + coalesce(current_setting('reserved_connections', true)::int, 0),
        (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')
"""

# PgBouncer's own default max_client_conn: the budget behind it unless DB_CONNECTION_BUDGET says.
PGBOUNCER_DEFAULT_MAX_CLIENT_CONN = 100


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


def worker_pools():
    """The max size of every pool one worker process opens, by the setting that sizes it:
    Django's pool, and the API fast lane's asyncio pool."""
    return {
        "DB_POOL_MAX_SIZE": settings.DB_POOL_MAX_SIZE,
        "DB_API_POOL_MAX_SIZE": settings.DB_API_POOL_MAX_SIZE,
    }


def connections_per_worker(pools=None):
    """How many connections one worker process can hold at once: all its pools, full."""
    return sum((worker_pools() if pools is None else pools).values())


def describe_pools(pools=None):
    """'DB_POOL_MAX_SIZE=50 + DB_API_POOL_MAX_SIZE=10', naming only the pools that exist."""
    pools = worker_pools() if pools is None else pools
    return " + ".join(f"{name}={size}" for name, size in pools.items() if size) or "no pools"


def connection_budget(limits, *, headroom=0):
    """(budget, where it comes from): how many connections this node's workers may open in all.

    Direct to PostgreSQL it is max_connections less the reserved slots and `headroom` (kept for
    migrations and psql); behind PgBouncer the workers' connections go to PgBouncer, so it is
    PgBouncer's max_client_conn. With several nodes, set each node's share in
    DB_CONNECTION_BUDGET (docs/scaling.md)."""
    if settings.DB_CONNECTION_BUDGET is not None:
        return settings.DB_CONNECTION_BUDGET, "DB_CONNECTION_BUDGET"
    if settings.DB_PGBOUNCER:
        return PGBOUNCER_DEFAULT_MAX_CLIENT_CONN, "PgBouncer's default max_client_conn"
    return (
        limits["available_connections"] - headroom,
        f"PostgreSQL's max_connections {limits['max_connections']} "
        f"less {limits['reserved_connections']} reserved"
        + (f" and {headroom} headroom" if headroom else ""),
    )


def connection_arithmetic(workers, limits):
    """Both sides of the sum, for the check, the serve command and the pool-status view."""
    per_worker = connections_per_worker()
    budget, budget_source = connection_budget(limits)
    return {
        "workers": workers,
        "pools": worker_pools(),
        "connections_per_worker": per_worker,
        "workers_x_connections_per_worker": workers * per_worker,
        "connection_budget": budget,
        "connection_budget_source": budget_source,
        "pgbouncer": settings.DB_PGBOUNCER,
    }


def api_pool_connection_kwargs(using=connection):
    """psycopg connect kwargs for a pool the project opens beside Django's (the API's async pool):
    the same server, database and timeouts as Django's connections, and behind PgBouncer no
    `options` startup parameter and no prepared statements (DB_PREPARE_THRESHOLD is None)."""
    db = using.settings_dict
    kwargs = {
        "dbname": db["NAME"],
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "connect_timeout": db["OPTIONS"].get("connect_timeout"),
        "options": db["OPTIONS"].get("options"),
    }
    kwargs = {name: value for name, value in kwargs.items() if value}
    return {**kwargs, "prepare_threshold": settings.DB_PREPARE_THRESHOLD}


def retry_connections_every_second():
    """psycopg_pool retries a failed connection after 1, 2, 4, 8... seconds, up to its
    reconnect_timeout (300 s): after a 20 s database outage the pool waited 8 s more before it
    tried again. Retry every second (with its 10% jitter) instead, for the sync and the async
    pool alike, so the service is back about a second after the database. psycopg_pool has no
    setting for this; its class attribute is the only handle (check it when upgrading)."""
    AttemptWithBackoff.DELAY_BACKOFF = 1.0
