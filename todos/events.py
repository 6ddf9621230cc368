"""The machinery behind GET /api/events (todos/api/events.py is the endpoint): in each worker
process one LISTEN connection straight to PostgreSQL, the streams open here by user, their
slots in Redis, and the stream itself: Server-Sent Events made from the sync feed
(todos.sync.changes_since), so that each event's id is a sync token. Why LISTEN and not Redis
pub/sub, and the figures: docs/sync.md, "Events".

A write anywhere (API, pages, admin, SQL) fires the sync triggers, which `pg_notify` the user's
id on commit. The listener wakes that user's streams in this worker; each reads the feed from
its last token and sends what changed. Nothing rides on the notification but "look": a lost one
delays an event to the next, never loses it, and a reconnect with Last-Event-ID reads the feed
from where the client was.
"""

import asyncio
import contextlib
import contextvars
import json
import logging
import random
import uuid
from collections import defaultdict
from urllib.parse import urlsplit

import psycopg
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections, connections

from . import health, metrics, sync
from .db import server_kwargs

logger = logging.getLogger(__name__)

CHANNEL = "todo_sync"
LISTENER_NAME = "todos-events-listener"  # its application_name in pg_stat_activity
# How long a stream waits for the listener to be up before telling its client to come back.
READY_TIMEOUT_SECONDS = 2.0
# Between two checks that the LISTEN connection still answers (a dead peer sends no RST).
LISTENER_CHECK_SECONDS = 15.0
LISTENER_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0)
# Generous: a worker's event loop busy opening thousands of streams answers late itself.
REDIS_TIMEOUT_SECONDS = 2.0
REDIS_CONNECTIONS = 20  # a worker's connections to Redis for its streams
RELEASE_BATCH = 1000
DRAIN_CHECK_SECONDS = 0.25

CONNECTED = b": connected\n\n"
# Objects whose last sent state a stream remembers, to leave out the feed's repeats (`encode`).
SENT_REMEMBERED = 1000
KEEPALIVE = b": keepalive\n\n"

# KEYS[1]: the user's sorted set of slots (member: stream id, score: when it lapses, by Redis's
# clock, so that the nodes' clocks do not matter). ARGV: stream id, lifetime, limit.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""
# KEYS: sets of slots; ARGV[1]: lifetime; ARGV[i + 1]: the stream id in KEYS[i].
RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local lifetime = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + lifetime, ARGV[i + 1])
  redis.call('EXPIRE', key, math.ceil(lifetime) + 1)
end
return #KEYS
"""


class Unavailable(Exception):
    """Streams cannot be served now (Redis, the listener, a drain): the client is told to retry."""


class TooManyStreams(Exception):
    pass


def slots_key(user_id):
    return f"{settings.CACHE_KEY_PREFIX}:events:streams:{user_id}"


def listener_conninfo():
    """psycopg connect kwargs for the LISTEN connection: Django's database, at EVENTS_LISTEN_URL's
    server when set (required behind PgBouncer)."""
    db = connections["default"].settings_dict
    kwargs = server_kwargs(db)
    if settings.EVENTS_LISTEN_URL:
        url = urlsplit(settings.EVENTS_LISTEN_URL)
        kwargs.update(
            host=url.hostname,
            port=url.port,
            user=url.username or db["USER"],
            password=url.password or db["PASSWORD"],
        )
        if url.path.strip("/"):
            kwargs["dbname"] = url.path.strip("/")
    elif settings.DB_PGBOUNCER:
        return None  # PgBouncer's transaction pooling would swallow the notifications
    kwargs = {name: value for name, value in kwargs.items() if value}
    return {
        **kwargs,
        "autocommit": True,
        "connect_timeout": settings.DB_CONNECT_TIMEOUT,
        "application_name": LISTENER_NAME,
    }


class Stream:
    """One open stream: its user, the sync token it has sent up to, and what woke it."""

    def __init__(self, hub, user, token):
        self.hub, self.user, self.token = hub, user, token
        self.id = uuid.uuid4().hex  # its slot's member: unique across workers and nodes
        self.changed = asyncio.Event()
        self.woken_at = 0  # the hub's notification count when it was last woken
        self.ended = None  # why it must end: (comment, retry ms)
        self.sent = {}  # what `encode` has sent

    def wake(self):
        self.woken_at = self.hub.notifications
        self.changed.set()

    def end(self, reason, retry_ms):
        if self.ended is None:
            self.ended = (reason, retry_ms)
        self.changed.set()


class Hub:
    """This worker's listener, streams and slots, bound to its event loop."""

    def __init__(self):
        self.streams = defaultdict(set)  # user id -> open Streams
        self.listening = asyncio.Event()
        self.notifications = 0
        self._listener = None
        self._renewer = None
        self._drain_watch = None
        self._redis = None
        self._redis_url = None
        self._feeds = {}  # (user id, token) -> (notification count at its start, future)
        self._to_release = []  # (key, member) of the slots to give back
        self._releaser = None

    def redis(self):
        if self._redis is None or self._redis_url != settings.REDIS_URL:
            self._redis_url = settings.REDIS_URL
            # Bounded, and a command waits for a connection rather than failing: thousands of
            # streams opening at once (clients coming back after a restart) share a few.
            self._redis = aioredis.Redis(
                connection_pool=aioredis.BlockingConnectionPool.from_url(
                    settings.REDIS_URL,
                    max_connections=REDIS_CONNECTIONS,
                    timeout=REDIS_TIMEOUT_SECONDS,
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                )
            )
        return self._redis

    # Opening and closing streams.

    async def open(self, user, token):
        """A Stream holding one of the user's slots, registered for its user's notifications.
        Raises Unavailable or TooManyStreams."""
        if health.is_draining():
            raise Unavailable("the server is restarting")
        self._start()
        if not await self._ready():
            raise Unavailable("the change listener is down")
        stream = Stream(self, user, token)
        try:
            acquired = await self.redis().eval(
                ACQUIRE,
                1,
                slots_key(user.pk),
                stream.id,
                settings.EVENTS_SLOT_SECONDS,
                settings.EVENTS_MAX_STREAMS_PER_USER,
            )
        except (aioredis.RedisError, OSError) as exc:
            logger.warning("events: Redis unavailable: %r", exc)
            self._release_later(slots_key(user.pk), stream.id)  # in case the script ran
            raise Unavailable("Redis is down") from None
        if not acquired:
            raise TooManyStreams()
        self.streams[user.pk].add(stream)
        metrics.EVENT_STREAMS.inc()
        return stream

    def close(self, stream):
        """Forget the stream and give its slot back. Synchronous, so that it runs whole in a
        `finally` of a cancelled task; Redis is told in a task of its own."""
        streams = self.streams.get(stream.user.pk)
        if streams is None or stream not in streams:
            return
        streams.discard(stream)
        if not streams:
            del self.streams[stream.user.pk]
        metrics.EVENT_STREAMS.dec()
        self._release_later(slots_key(stream.user.pk), stream.id)

    def _release_later(self, key, member):
        """Give the slot back soon, with the others given back meanwhile: when thousands of
        clients go at once (a network blip), a few pipelines instead of a command each."""
        self._to_release.append((key, member))
        if self._releaser is None or self._releaser.done():
            self._releaser = _background(self._release_pending())

    async def _release_pending(self):
        while self._to_release:
            batch = self._to_release[:RELEASE_BATCH]
            del self._to_release[:RELEASE_BATCH]
            try:
                async with self.redis().pipeline(transaction=False) as pipe:
                    for key, member in batch:
                        pipe.zrem(key, member)
                    await pipe.execute()
            except (aioredis.RedisError, OSError) as exc:  # they lapse after EVENTS_SLOT_SECONDS
                logger.warning("events: %d slots were not given back: %r", len(batch), exc)

    def end_all(self, reason, retry_ms):
        for streams in self.streams.values():
            for stream in streams:
                stream.end(reason, retry_ms)

    # The feed.

    async def changes(self, stream):
        """The feed's page after the stream's token. Streams of one user at one token share a
        read, if it began after the notification that woke them (so it sees that commit)."""
        key = (stream.user.pk, stream.token)
        started, future = self._feeds.get(key, (-1, None))
        if future is None or started < stream.woken_at:
            future = asyncio.ensure_future(_changes_since(stream.user, stream.token))
            entry = (self.notifications, future)
            self._feeds[key] = entry
            future.add_done_callback(
                lambda _: self._feeds.pop(key) if self._feeds.get(key) is entry else None
            )
        return await asyncio.shield(future)

    # The listener, the slots' renewal and the drain, one task each per worker.

    def _start(self):
        if self._listener is None or self._listener.done():
            self._listener = _background(self._listen())
        if self._renewer is None or self._renewer.done():
            self._renewer = _background(self._renew())
        if self._drain_watch is None or self._drain_watch.done():
            self._drain_watch = _background(self._end_on_drain())

    async def _ready(self):
        if self.listening.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                await self.listening.wait()
        return self.listening.is_set()

    async def _listen(self):
        failures = 0
        while True:
            conninfo = listener_conninfo()
            try:
                if conninfo is None:
                    raise psycopg.OperationalError(
                        "behind PgBouncer the events listener needs EVENTS_LISTEN_URL"
                    )
                async with await psycopg.AsyncConnection.connect(**conninfo) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    failures = 0
                    self.listening.set()
                    # Whatever committed while nobody listened: every stream reads the feed.
                    self.notifications += 1
                    for streams in self.streams.values():
                        for stream in streams:
                            stream.wake()
                    while True:
                        async for notify in conn.notifies(timeout=LISTENER_CHECK_SECONDS):
                            self._dispatch(notify.payload)
                        async with asyncio.timeout(LISTENER_CHECK_SECONDS):
                            await conn.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("events: the listener is down: %r", exc)
            self.listening.clear()
            self.end_all("the change listener is down", settings.EVENTS_RETRY_MS)
            await asyncio.sleep(LISTENER_BACKOFF_SECONDS[min(failures, 3)])
            failures += 1

    def _dispatch(self, payload):
        self.notifications += 1
        try:
            user_id = int(payload)
        except ValueError:
            return
        for stream in self.streams.get(user_id, ()):
            stream.wake()

    async def _renew(self):
        """Renew this worker's slots before they lapse; a worker that dies stops renewing, and
        its streams stop counting EVENTS_SLOT_SECONDS later."""
        while True:
            await asyncio.sleep(settings.EVENTS_SLOT_SECONDS / 3)
            streams = [s for group in self.streams.values() for s in group if s.ended is None]
            if not streams:
                continue
            try:
                await self.redis().eval(
                    RENEW,
                    len(streams),
                    *[slots_key(s.user.pk) for s in streams],
                    settings.EVENTS_SLOT_SECONDS,
                    *[s.id for s in streams],
                )
            except (aioredis.RedisError, OSError) as exc:
                logger.warning("events: Redis unavailable, streams end: %r", exc)
                self.end_all("Redis is down", settings.EVENTS_RETRY_MS)

    async def _end_on_drain(self):
        # Polled: health.draining is an asyncio.Event of the worker's one loop, and tests run
        # servers on loops of their own in one process.
        while not health.is_draining():
            await asyncio.sleep(DRAIN_CHECK_SECONDS)
        self.end_all("the server is restarting", health.DRAIN_RETRY_MS)


def _background(coroutine):
    """A task of the worker's, not of the request that happened to start it (its request id
    would be on the task's log lines)."""
    return asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())


async def close():
    """Stop this event loop's hub: its listener, its tasks (a test server's shutdown)."""
    found = _hubs.pop(asyncio.get_running_loop(), None)
    if found is None:
        return
    tasks = [found._listener, found._renewer, found._drain_watch, found._releaser]
    for task in tasks:
        if task is not None:
            task.cancel()
    await asyncio.gather(*[t for t in tasks if t is not None], return_exceptions=True)


_hubs = {}  # event loop -> Hub (one loop per worker; tests run servers on loops of their own)


def hub():
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        for old in [old for old in _hubs if old.is_closed()]:
            del _hubs[old]
        found = _hubs[loop] = Hub()
    return found


def _changes_since_sync(user, token):
    try:
        return sync.changes_since(user, token)
    finally:
        close_old_connections()  # back to the pool: no stream keeps a connection


_changes_since = sync_to_async(_changes_since_sync, thread_sensitive=False)


def _current_token_sync():
    try:
        return sync.current_token()
    finally:
        close_old_connections()


current_token = sync_to_async(_current_token_sync, thread_sensitive=False)


def encode(changes, sent):
    """The events of one page of the feed, as one piece: lists first (a todo may be in a new
    one), then todos, then deletions. Only the last event carries the page's token as its id:
    a client that reconnects with it resumes after the whole page.

    The feed gives a list again with each change of its todos (for its open count), mostly in
    the same state: `sent` (object -> its data as last sent on this stream) leaves out what the
    client already has."""
    events = [("list", item["id"], item) for item in changes["lists"]]
    events += [("todo", item["id"], item) for item in changes["todos"]]
    events += [("todo_deleted", pk, {"id": pk}) for pk in changes["deleted_todos"]]
    events += [("list_deleted", pk, {"id": pk}) for pk in changes["deleted_lists"]]
    fresh = []
    for kind, pk, data in events:
        text = json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"))
        key = (kind.removesuffix("_deleted"), pk)
        if sent.get(key) != (kind, text):
            fresh.append((kind, text))
            sent[key] = (kind, text)
    if len(sent) > SENT_REMEMBERED:
        sent.clear()
    if not fresh:
        # Nothing new for this client: the token still moves on (a comment carries no id).
        return b""
    lines = []
    for number, (kind, text) in enumerate(fresh, 1):
        lines.append(f"event: {kind}")
        if number == len(fresh):
            lines.append(f"id: {changes['token']}")
        lines.append(f"data: {text}")
        lines.append("")
    return ("\n".join(lines) + "\n").encode()


def retry(reason, retry_ms):
    """The end of a stream: a comment saying why, and when to come back: between `retry_ms`
    and twice that, so that the clients of a node that went away do not all come back at once."""
    return f": {reason}\nretry: {retry_ms + random.randrange(retry_ms + 1)}\n\n".encode()


async def stream_events(stream, first=None):
    """The body of an open stream: the first page (if the client resumed), then a page of the
    feed each time the user's data changes, a comment every EVENTS_KEEPALIVE_SECONDS, and a
    `retry:` when it must end. The stream's slot is given back however it ends, a client's
    disconnect included (the door cancels the task iterating this: CancelledError here)."""
    hub = stream.hub
    try:
        yield CONNECTED
        if first is not None:
            body = encode(first, stream.sent)
            if body:
                yield body
            stream.token = first["token"]
            if first["more"]:
                stream.wake()
        while True:
            if not stream.changed.is_set():
                try:
                    async with asyncio.timeout(settings.EVENTS_KEEPALIVE_SECONDS):
                        await stream.changed.wait()
                except TimeoutError:
                    yield KEEPALIVE
                    continue
            if stream.ended is not None:
                yield retry(*stream.ended)
                return
            stream.changed.clear()
            try:
                changes = await hub.changes(stream)
            except Exception as exc:  # the database: the client comes back and resumes
                logger.warning("events: the feed failed: %r", exc)
                yield retry("the database is unavailable", settings.EVENTS_RETRY_MS)
                return
            body = encode(changes, stream.sent)
            if body:
                yield body
            stream.token = changes["token"]
            if changes["more"]:
                stream.changed.set()
    finally:
        hub.close(stream)
