"""What the pool-status view and the staff dashboard show: this worker's pools, their bounds and
psycopg_pool's counters, and the connection arithmetic against the server's limits."""

import os

from django.conf import settings
from django.db import connection, connections

from . import api_pool, replica
from .db import connection_arithmetic, replica_connection_limits, server_connection_limits

COUNTERS = (
    "requests_num",
    "requests_queued",
    "requests_wait_ms",
    "requests_errors",
    "requests_waiting",
    "connections_num",
    "connections_ms",
    "connections_errors",
    "connections_lost",
    "returns_bad",
)


def pool_figures(pool):
    """Bounds, connections in use and idle, waiters and counters of one psycopg pool. Counters
    appear in get_stats() only once non-zero, so absent ones are 0."""
    stats = pool.get_stats()
    return {
        "pool": {
            "min_size": pool.min_size,
            "max_size": pool.max_size,
            "timeout": pool.timeout,
            "max_waiting": pool.max_waiting,
            "max_lifetime": pool.max_lifetime,
        },
        "connections": {
            "size": stats["pool_size"],
            "in_use": stats["pool_size"] - stats["pool_available"],
            "idle": stats["pool_available"],
        },
        "requests_waiting": stats.get("requests_waiting", 0),
        "counters": {name: stats.get(name, 0) for name in COUNTERS},
    }


def pool_status():
    """Django's pool (the seed's 20/50) at the top level, the API fast lane's pool under
    `api_pool` (None until this worker's lane has opened it), the server's limits under
    `server`; with a replica, the same of the replica's pools and server under `replica`."""
    pool = connection.pool
    pool.open()  # a no-op once open; the first request of a worker may get here first
    limits = server_connection_limits()
    lane_pool = api_pool.current()
    status = {
        "pid": os.getpid(),
        **pool_figures(pool),
        "api_pool": pool_figures(lane_pool) if lane_pool else None,
        "server": {**limits, **connection_arithmetic(settings.WEB_CONCURRENCY, limits)},
    }
    if replica.configured():
        # The replica's pools count against the replica server's limits, not the primary's.
        replica_pool = connections[replica.ALIAS].pool
        replica_lane_pool = api_pool.current(replica.ALIAS)
        replica_limits = replica_connection_limits()  # None while the replica does not answer
        status["replica"] = {
            **replica.lag_monitor().summary(),
            "pool": pool_figures(replica_pool),
            "api_pool": pool_figures(replica_lane_pool) if replica_lane_pool else None,
            "server": replica_limits
            and {
                **replica_limits,
                **connection_arithmetic(settings.WEB_CONCURRENCY, replica_limits, replica.ALIAS),
            },
        }
    return status
