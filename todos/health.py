"""Probes for a load balancer or orchestrator, outside /api/ and without authentication.

`/healthz`: the process answers (no database): restart it if this fails.
`/readyz`: this worker's pool hands out a connection that answers `SELECT 1` within a couple
of seconds, and its wait queue is not full: send it traffic only while this answers 200.
"""

import logging

import psycopg
from asgiref.sync import sync_to_async
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0
RETRY_AFTER_SECONDS = "1"  # as the API's 503s


async def healthz(request):
    return JsonResponse({"status": "ok"})


async def readyz(request):
    problem, pool = await sync_to_async(check_database, thread_sensitive=False)()
    if problem:
        response = JsonResponse(
            {"status": "unavailable", "reason": problem, "pool": pool}, status=503
        )
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    return JsonResponse({"status": "ready", "pool": pool})


def check_database():
    """(problem or None, pool summary) for this process's connection pool."""
    pool = connection.pool
    pool.open()
    try:
        if pool.max_waiting and pool.get_stats().get("requests_waiting", 0) >= pool.max_waiting:
            problem = "the pool's wait queue is full"
        else:
            problem = None
            with pool.connection(timeout=min(pool.timeout, READY_TIMEOUT_SECONDS)) as conn:
                conn.execute("SELECT 1")
    except psycopg.Error as exc:  # PoolTimeout and TooManyRequests are psycopg errors too
        logger.warning("not ready: %r", exc)
        problem = "the database does not answer"
    stats = pool.get_stats()
    summary = {
        "size": stats["pool_size"],
        "idle": stats["pool_available"],
        "waiting": stats.get("requests_waiting", 0),
        "max_size": pool.max_size,
    }
    return problem, summary
