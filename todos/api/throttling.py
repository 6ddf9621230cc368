"""Per-user limits on writes, counted in Redis so that every worker process shares them.

A fixed window per user: the first write of a window creates its counter with an expiry, each
write increments it, and past the limit the caller gets 429 with Retry-After = the seconds left
in the window. One round trip per write (a small Lua script: INCR, and EXPIRE on the first). When Redis cannot be
reached the limit fails open: a cache outage must not take the API down with it.

The same check is callable outside DRF, sync or async (the lean /api/ path uses it):

    wait = throttle_writes(user_id)           # None, or seconds to wait
    wait = await athrottle_writes(user_id)    # the same, on the event loop
"""

import functools
import logging
import math
import re
import time
import weakref

import redis
from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from .. import shared_redis

logger = logging.getLogger(__name__)

# Where the windows' time comes from; tests set it to stand at a known point of a window.
clock = time.time

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@functools.lru_cache(maxsize=16)
def parse_rate(rate):
    """'100/min' -> (100, 60); '10/15min' -> (10, 900). Raises ValueError when malformed."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"not a rate: {rate!r} (expected e.g. '100/min' or '10/15min')")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNIT_SECONDS[unit[0]]


def window_key(scope, ident, window, now):
    """The counter's key for this window; the window's start is part of it, so no TTL query is
    needed to tell the caller how long to wait."""
    start = int(now // window) * window
    return f"{settings.CACHE_KEY_PREFIX}:throttle:{scope}:{ident}:{start}"


def _wait(count, limit, window, now):
    if count <= limit:
        return None
    return max(1, math.ceil(window - now % window))


# One command (EVALSHA of this script): count, and start the window's expiry on its first count.
COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_counters = weakref.WeakKeyDictionary()  # the script registered on each client


def _counter(client):
    counter = _counters.get(client)
    if counter is None:
        counter = _counters[client] = client.register_script(COUNT_IN_WINDOW)
    return counter


def _sync_counter():
    """COUNT_IN_WINDOW on this process's sync client."""
    return _counter(shared_redis.client())


def _async_counter():
    """COUNT_IN_WINDOW on this event loop's client."""
    return _counter(shared_redis.async_client())


def hit(scope, ident, rate):
    """Count one event for `ident` under `scope`; None when within `rate`, else seconds to wait."""
    limit, window = parse_rate(rate)
    now = clock()
    key = window_key(scope, ident, window, now)
    try:
        count = _sync_counter()(keys=[key], args=[window + 1])
    except redis.RedisError as exc:
        logger.warning("rate limit not enforced, Redis unavailable: %r", exc)
        return None
    return _wait(count, limit, window, now)


async def ahit(scope, ident, rate):
    """`hit` on the event loop, without a thread hop."""
    limit, window = parse_rate(rate)
    now = clock()
    key = window_key(scope, ident, window, now)
    try:
        count = await _async_counter()(keys=[key], args=[window + 1])
    except redis.RedisError as exc:
        logger.warning("rate limit not enforced, Redis unavailable: %r", exc)
        return None
    return _wait(count, limit, window, now)


def throttle_writes(user_id):
    """Count one write by this user; None when allowed, else seconds until the next window."""
    return hit("writes", user_id, settings.THROTTLE_WRITES)


async def athrottle_writes(user_id):
    return await ahit("writes", user_id, settings.THROTTLE_WRITES)


class WriteRateThrottle(BaseThrottle):
    """DRF throttle: POST, PUT, PATCH and DELETE by a signed-in user count against
    THROTTLE_WRITES; reads and anonymous requests are not counted."""

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return True
        self.seconds = throttle_writes(request.user.pk)
        return self.seconds is None

    async def aallow_request(self, request, view):
        """`allow_request` on the event loop (todos.api.views.APIView awaits it)."""
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return True
        self.seconds = await athrottle_writes(request.user.pk)
        return self.seconds is None

    def wait(self):
        return self.seconds
