"""The API's asyncio connection pool, one per worker process: the fast lane runs its requests'
statements on it (todos.executor.request_pool), the pool status shows it. Opened by the first
request that needs it; `current()` is None until then."""

import asyncio
import time

import psycopg
from django.conf import settings
from django.db import connections
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from psycopg.adapt import AdaptersMap
from psycopg.pq import Format
from psycopg_pool import AsyncConnectionPool

from .db import api_pool_connection_kwargs

# A pooled connection idle for longer than this is checked before reuse (the seed's pre-ping);
# checking every checkout would cost a round trip per request.
CHECK_AFTER_IDLE_SECONDS = 1.0

_pools = {}  # by database alias: "default" (the primary), "replica" (todos.replica)
_opening = {}  # the lock of each first opening, made on the event loop that opens it


def current(alias="default"):
    """This process's opened pool of that database, or None."""
    return _pools.get(alias)


async def opened(alias="default"):
    """This process's pool of that database, opened on first use."""
    if alias not in _pools:
        lock = _opening.setdefault(alias, asyncio.Lock())
        async with lock:
            if alias not in _pools:
                pool = make(alias)
                await pool.open()
                _pools[alias] = pool
    return _pools[alias]


async def close():
    """Close the pools, so that the next request opens them from the settings (tests)."""
    pools = list(_pools.values())
    _pools.clear()
    for pool in pools:
        await pool.close()


def make(alias="default"):
    """A new pool: the same server, options, pool limits and type adapters as Django's own
    connection (read from it, so tests that reconfigure one reconfigure both), sized by
    DB_API_POOL_* (its minimum kept open in serving workers only, as Django's)."""
    django_connection = connections[alias]
    kwargs = api_pool_connection_kwargs(django_connection)
    if "options" in kwargs:
        # psycopg's C loaders give aware datetimes in the session's time zone: pin it to UTC
        # (behind PgBouncer, `manage.py configure_role` sets it on the role).
        kwargs["options"] += " -c TimeZone=UTC"
    limits = django_connection.settings_dict["OPTIONS"]["pool"]
    return AsyncConnectionPool(
        kwargs={**kwargs, "autocommit": True, "context": adapters(django_connection)},
        min_size=settings.DB_API_POOL_MIN_SIZE if settings.SERVING_WORKER else 0,
        max_size=settings.DB_API_POOL_MAX_SIZE,
        timeout=limits["timeout"],
        max_waiting=limits["max_waiting"],
        max_lifetime=limits["max_lifetime"],
        check=_check_if_idle,
        reset=_note_return,
        name="api-fast-lane" if alias == "default" else f"api-fast-lane-{alias}",
        open=False,
    )


def adapters(django_connection):
    """The adapters Django registers on its connections (jsonb and network types as text for
    the fields' own converters, its range dumper), except for timestamptz: psycopg's C loader
    instead of Django's Python one, which reads the same aware UTC datetimes on a session pinned
    to UTC at a fraction of the CPU."""
    context = AdaptersMap(get_adapters_template(settings.USE_TZ, django_connection.timezone))
    timestamptz = psycopg.adapters.types["timestamptz"].oid
    context.register_loader(timestamptz, psycopg.adapters.get_loader(timestamptz, Format.TEXT))
    return context


async def _note_return(conn):
    conn._returned_at = time.monotonic()


async def _check_if_idle(conn):
    idle = time.monotonic() - getattr(conn, "_returned_at", 0.0)
    if idle > CHECK_AFTER_IDLE_SECONDS:
        await AsyncConnectionPool.check_connection(conn)
