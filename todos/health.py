"""Probes for a load balancer or orchestrator, outside /api/ and without authentication.

`/healthz`: the process answers (no database): restart it if this fails.
`/readyz`: this worker's pool hands out a connection that answers `SELECT 1` within a couple
of seconds, and its wait queue is not full, and it is not draining: send it traffic only while
this answers 200.

Draining: from the SIGTERM that stops a serving worker (todos/serving.py) on, /readyz answers
503 so that the load balancer takes the node out, while requests still reaching it are served.
Long-lived responses (event streams) must end then: `await health.draining.wait()` (or check
`is_draining()`) and close the stream with a `retry: {DRAIN_RETRY_MS}` line, so that the
client reconnects, through the load balancer, to a node that stays. The worker stops accepting
connections `GRACEFUL_DRAIN_SECONDS` later and exits within `GRACEFUL_TIMEOUT`.
"""

import asyncio
import logging

import psycopg
from asgiref.sync import sync_to_async
from django.db import connection
from django.http import JsonResponse

from . import replica

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0
RETRY_AFTER_SECONDS = "1"  # as the API's 503s
# What an event stream ended by a drain tells its client to wait before reconnecting.
DRAIN_RETRY_MS = 1000

# Set once, on the worker's event loop, when the worker starts draining.
draining = asyncio.Event()
_draining = False  # the same, set at once (from a signal handler) for /readyz


def is_draining():
    return _draining


def start_draining(loop):
    """Begin draining: from a signal handler or the event loop's own thread."""
    global _draining
    if not _draining:
        _draining = True
        loop.call_soon_threadsafe(draining.set)


async def healthz(request):
    return JsonResponse({"status": "ok"})


async def readyz(request):
    if _draining:
        response = JsonResponse({"status": "draining"}, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    problem, pool = await sync_to_async(check_database, thread_sensitive=False)()
    if problem:
        response = JsonResponse(
            {"status": "unavailable", "reason": problem, "pool": pool}, status=503
        )
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    body = {"status": "ready", "pool": pool}
    if replica.configured():  # skipped while down or behind: the node is ready without it
        body["replica"] = replica.lag_monitor().summary()
    return JsonResponse(body)


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
