"""The connection arithmetic, in one place: what one worker process opens, what this node may open
in all, and what the PostgreSQL server allows. The system check todos.W001, `manage.py serve` and
the pool-status view all count through these functions. And how quickly the pools reconnect after
an outage."""

from django.conf import settings
from django.db import DatabaseError, connection, connections
from psycopg_pool.base import AttemptWithBackoff

from . import replica

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
    """The max size of every pool one worker process opens on a server, by the setting that
    sizes it: Django's pool, and the API fast lane's asyncio pool. With a replica a worker opens
    the same two pools again on the replica's server (todoproject/settings.py copies them)."""
    return {
        "DB_POOL_MAX_SIZE": settings.DB_POOL_MAX_SIZE,
        "DB_API_POOL_MAX_SIZE": settings.DB_API_POOL_MAX_SIZE,
    }


def probe_connections():
    """With a replica, each worker's lag probe (todos.replica.Lag) holds one connection to the
    primary and one to the replica, beside the pools."""
    return 1 if replica.configured() else 0


def connections_per_worker(pools=None):
    """How many connections one worker process can hold at once on one server: all its pools
    there, full, and the replica's lag probe."""
    return sum((worker_pools() if pools is None else pools).values()) + probe_connections()


def describe_pools(pools=None):
    """'DB_POOL_MAX_SIZE=50 + DB_API_POOL_MAX_SIZE=10', naming only the pools that exist (and
    the lag probe's connection with a replica)."""
    pools = worker_pools() if pools is None else pools
    named = [f"{name}={size}" for name, size in pools.items() if size]
    if probe_connections():
        named.append("1 for the replica's lag probe")
    return " + ".join(named) or "no pools"


def connection_budget(limits, *, headroom=0, alias="default"):
    """(budget, where it comes from): how many connections this node's workers may open in all
    on that server, the primary ("default") or the replica.

    Direct to PostgreSQL it is max_connections less the reserved slots and `headroom` (kept for
    migrations and psql); behind PgBouncer the workers' connections go to PgBouncer, so it is
    PgBouncer's max_client_conn. With several nodes, set each node's share in
    DB_CONNECTION_BUDGET (DB_REPLICA_CONNECTION_BUDGET for the replica: docs/scaling.md)."""
    if alias != "default":
        if settings.DB_REPLICA_CONNECTION_BUDGET is not None:
            return settings.DB_REPLICA_CONNECTION_BUDGET, "DB_REPLICA_CONNECTION_BUDGET"
        return _server_budget(limits, headroom, "the replica's")
    if settings.DB_CONNECTION_BUDGET is not None:
        return settings.DB_CONNECTION_BUDGET, "DB_CONNECTION_BUDGET"
    if settings.DB_PGBOUNCER:
        return PGBOUNCER_DEFAULT_MAX_CLIENT_CONN, "PgBouncer's default max_client_conn"
    return _server_budget(limits, headroom, "PostgreSQL's")


def _server_budget(limits, headroom, whose):
    return (
        limits["available_connections"] - headroom,
        f"{whose} max_connections {limits['max_connections']} "
        f"less {limits['reserved_connections']} reserved"
        + (f" and {headroom} headroom" if headroom else ""),
    )


def replica_connection_limits():
    """The replica server's limits, or None when it does not answer (a replica that is down
    is skipped, and must not stop a node from starting)."""
    try:
        return server_connection_limits(connections[replica.ALIAS])
    except DatabaseError:
        return None


def connection_arithmetic(workers, limits, alias="default"):
    """Both sides of the sum on one server, for the check, the serve command and the
    pool-status view."""
    per_worker = connections_per_worker()
    budget, budget_source = connection_budget(limits, alias=alias)
    return {
        "workers": workers,
        "pools": worker_pools(),
        "connections_per_worker": per_worker,
        "workers_x_connections_per_worker": workers * per_worker,
        "connection_budget": budget,
        "connection_budget_source": budget_source,
        "pgbouncer": settings.DB_PGBOUNCER and alias == "default",
    }


def server_kwargs(db):
    """psycopg's address and login kwargs of a Django database's settings dict."""
    return {
        "dbname": db["NAME"],
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"],
    }


def api_pool_connection_kwargs(using=connection):
    """psycopg connect kwargs for a pool the project opens beside Django's (the API's async pool):
    the same server, database and timeouts as Django's connections, and behind PgBouncer no
    `options` startup parameter and no prepared statements (DB_PREPARE_THRESHOLD is None)."""
    db = using.settings_dict
    kwargs = {
        **server_kwargs(db),
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
