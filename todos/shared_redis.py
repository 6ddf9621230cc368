"""This process's Redis clients, for what every worker and node shares: the write throttle's
counters (todos.api.throttling) and the replica's pins (todos.replica). One thread-safe sync
client, and one asyncio client per event loop (its connections belong to the loop that opened
them). Plain commands on them, not Django's cache: the cache's async methods run its sync ones
in the one thread of sync_to_async, one request at a time."""

import asyncio
import threading
import weakref

import redis
import redis.asyncio
from django.conf import settings
from django.core.signals import setting_changed

# Exactly one sync client: a discarded duplicate would close its pool while in use.
_clients = {}
_clients_lock = threading.Lock()
_async_clients = weakref.WeakKeyDictionary()
# A stalled Redis must not stall requests: give up quickly (as the cache's OPTIONS do).
TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def client():
    found = _clients.get("sync")
    if found is None:
        with _clients_lock:
            found = _clients.get("sync")
            if found is None:
                found = _clients["sync"] = redis.Redis.from_url(settings.REDIS_URL, **TIMEOUTS)
    return found


def async_client():
    loop = asyncio.get_running_loop()
    found = _async_clients.get(loop)
    if found is None:
        found = _async_clients[loop] = redis.asyncio.Redis.from_url(settings.REDIS_URL, **TIMEOUTS)
    return found


def _reset_clients(*, setting, **kwargs):
    if setting == "REDIS_URL":
        _clients.clear()
        _async_clients.clear()


setting_changed.connect(_reset_clients)
