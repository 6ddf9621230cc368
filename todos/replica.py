"""Reads from a streaming replica (DATABASE_REPLICA_URL), with read-your-writes (docs/scaling.md
section 6).

A request that writes nothing marks itself a replica reader once its user is known
(`reading_as`); the router then sends its reads outside transactions to the replica, unless the
user is pinned to the primary or the replica is behind. A write pins its user (`pin`) in Redis
for DB_REPLICA_MAX_LAG_SECONDS + 2 x DB_REPLICA_CHECK_SECONDS, so that it holds on every worker
and node. A probe thread per process measures the lag by WAL positions (`Lag`).
"""

import collections
import contextlib
import contextvars
import logging
import threading
import time

import psycopg
import redis
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.db import DatabaseError, connections

from . import shared_redis

logger = logging.getLogger(__name__)

ALIAS = "replica"
# True for a request that reads from the replica (its user is not pinned).
_replica_reader = contextvars.ContextVar("replica_reader", default=False)


def configured():
    return ALIAS in settings.DATABASES


def pin_seconds():
    return settings.DB_REPLICA_MAX_LAG_SECONDS + 2 * settings.DB_REPLICA_CHECK_SECONDS


def _pin_key(user_id):
    return f"{settings.CACHE_KEY_PREFIX}:replica-pin:{user_id}"


def _pin_ms():
    return int(pin_seconds() * 1000)


async def pin(user_id):
    """After a write of this user: their reads go to the primary for pin_seconds()."""
    try:
        await shared_redis.async_client().set(_pin_key(user_id), 1, px=_pin_ms())
    except redis.RedisError as exc:  # Redis down: reads of everyone go to the primary (below)
        logger.warning("replica pin not set, Redis unavailable: %r", exc)


async def _pinned(user_id):
    try:
        return await shared_redis.async_client().exists(_pin_key(user_id)) > 0
    except redis.RedisError:
        return True  # unknown: the primary answers


@contextlib.asynccontextmanager
async def reading_as(user_id):
    """Within: this request's reads may go to the replica (a request that writes nothing)."""
    # A replica being skipped needs no Redis round trip: the primary answers anyway.
    if not configured() or not lag_monitor().usable() or await _pinned(user_id):
        yield
        return
    token = _replica_reader.set(True)
    try:
        yield
    finally:
        _replica_reader.reset(token)


class ReplicaReadsMiddleware:
    """Pages and the admin (the API does this in todos.api.operations.perform): a GET or HEAD of
    a signed-in user who is not pinned reads from the replica; any other request of a signed-in
    user pins them. A replica read that fails (the replica went down since the last probe) is
    answered again on the primary. Installed only with a replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if request.path.startswith("/api/") or not user.is_authenticated:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            try:
                return self.get_response(request)
            finally:
                _pin_now(user.pk)
        if not lag_monitor().usable() or _pinned_now(user.pk):
            return self.get_response(request)
        token = _replica_reader.set(True)
        try:
            return self.get_response(request)
        finally:
            _replica_reader.reset(token)

    def process_exception(self, request, exception):
        """The view (or its template) failed on a database error while reading from the
        replica: mark the replica down and run the view again on the primary. Only a GET or
        HEAD gets here as a reader, and such a view writes nothing, so running it twice is safe."""
        if not isinstance(exception, (DatabaseError, psycopg.Error)) or not reading():
            return None
        match = request.resolver_match
        if match is None or iscoroutinefunction(match.func):
            return None
        logger.warning("replica read failed, answered on the primary: %r", exception)
        fall_back()
        response = match.func(request, *match.args, **match.kwargs)
        if callable(getattr(response, "render", None)):  # a TemplateResponse (the admin's)
            response = response.render()
        return response


def _pin_now(user_id):
    try:
        shared_redis.client().set(_pin_key(user_id), 1, px=_pin_ms())
    except redis.RedisError as exc:
        logger.warning("replica pin not set, Redis unavailable: %r", exc)


def _pinned_now(user_id):
    try:
        return shared_redis.client().exists(_pin_key(user_id)) > 0
    except redis.RedisError:
        return True


def reading():
    """Whether this request reads from the replica when it is usable."""
    return _replica_reader.get()


def read_alias():
    """Where a read of this request goes now: the replica, or the primary ("default")."""
    if (
        _replica_reader.get()
        and not connections["default"].in_atomic_block
        and lag_monitor().usable()
    ):
        return ALIAS
    return "default"


def fall_back():
    """The replica failed a read: mark it down until a probe finds it back, and read from the
    primary for the rest of this request."""
    lag_monitor().mark_down()
    _replica_reader.set(False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"


def _lsn(text):
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


class Lag:
    """The replica's lag, probed every DB_REPLICA_CHECK_SECONDS on two connections of its own.

    Each probe notes the time t, then the primary's WAL position P: every transaction committed
    before t is below P. The replica has then replayed everything committed before the latest t
    whose P is at or below its replay position; the lag is the time since that t."""

    def __init__(self):
        self.lag = float("inf")
        self.probed_at = 0.0
        self._samples = collections.deque(maxlen=1000)
        self._connections = {}
        self._lock = threading.Lock()
        self._thread = None

    def usable(self):
        self._start()
        fresh = time.monotonic() - self.probed_at <= 2 * settings.DB_REPLICA_CHECK_SECONDS
        return fresh and self.lag <= settings.DB_REPLICA_MAX_LAG_SECONDS

    def mark_down(self):
        self.lag = float("inf")

    def summary(self):
        return {
            "usable": self.usable(),
            "lag_seconds": None if self.lag == float("inf") else round(self.lag, 3),
        }

    def _start(self):
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="replica-lag", daemon=True
                    )
                    self._thread.start()

    def _run(self):
        while True:
            try:
                self.probe()
            except Exception as exc:
                self.lag = float("inf")
                logger.warning("replica skipped: %r", exc)
                for conn in self._connections.values():
                    conn.close()
                self._connections.clear()
            time.sleep(settings.DB_REPLICA_CHECK_SECONDS)

    def _connection(self, alias):
        conn = self._connections.get(alias)
        if conn is None or conn.closed:
            db = connections[alias].settings_dict
            conn = self._connections[alias] = psycopg.connect(
                dbname=db["NAME"],
                host=db["HOST"] or None,
                port=db["PORT"] or None,
                user=db["USER"] or None,
                password=db["PASSWORD"] or None,
                connect_timeout=2,
                autocommit=True,
                # Never prepared: the primary may be behind PgBouncer in transaction mode.
                prepare_threshold=None,
                application_name="todos-replica-lag",
            )
        return conn

    def probe(self):
        started = time.monotonic()
        (primary,) = self._connection("default").execute("SELECT pg_current_wal_lsn()").fetchone()
        self._samples.append((started, _lsn(primary)))
        (replayed,) = self._connection(ALIAS).execute("SELECT pg_last_wal_replay_lsn()").fetchone()
        if replayed is None:
            raise RuntimeError("DATABASE_REPLICA_URL is not a standby")
        replayed = _lsn(replayed)
        caught_up = [t for t, position in self._samples if position <= replayed]
        now = time.monotonic()
        if caught_up:
            while self._samples and self._samples[0][0] < caught_up[-1]:
                self._samples.popleft()
            self.lag = now - caught_up[-1]
        else:
            self.lag = now - self._samples[0][0]  # at least this
        self.probed_at = now


_lag = None


def lag_monitor():
    global _lag
    if _lag is None:
        _lag = Lag()
    return _lag
