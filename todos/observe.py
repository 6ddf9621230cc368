"""The ASGI wrapper around the whole application (todoproject/asgi.py): every HTTP request,
whether the fast lane or Django's handler answers it, is counted in the metrics, timed, given a
request id (sent back as X-Request-ID and put on every log line while it runs) and logged in
one line. It runs on the event loop around the application's own call: no thread hop, no
middleware."""

import asyncio
import functools
import logging
import re
import time

from django.conf import settings
from django.urls import Resolver404, get_resolver

from . import metrics
from .api.idempotency import REPLAYED_HEADER
from .metrics import tally
from .request_log import REQUEST_LOGGER, RequestContext, RequestRecord, current, request_id_from

logger = logging.getLogger(REQUEST_LOGGER)

METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
REPLAYED = (REPLAYED_HEADER.encode(), b"true")  # as the lane and Django's handler send it
# A path segment of digits (a todo id): paths that differ only there share a route, so the
# route is resolved once per shape. The digits become 1s, which every id pattern accepts.
ID_SEGMENT = re.compile(r"(?<=/)[0-9]+(?=/|$)")


@functools.lru_cache(maxsize=1024)
def route_of(path):
    """The route label of a path: remembered per path (a todo's calls follow each other), then
    per path shape."""
    return _route_of_shape(ID_SEGMENT.sub(_ones, path))


def _ones(match):
    return "1" * len(match[0])


@functools.lru_cache(maxsize=1024)  # bounded: scanners send any path
def _route_of_shape(path):
    """The URL pattern (e.g. "api/todo/<todo_id:pk>"), never the raw path."""
    if path.startswith("/static/"):
        return "static/"  # WhiteNoise answers these before any URL pattern
    try:
        return get_resolver().resolve(path).route
    except Resolver404:
        return "unmatched"


@functools.lru_cache(maxsize=4096)
def _message(method, route, status):
    return f"{method} {route} {status}"


class Observed:
    def __init__(self, app):
        self.app = app
        self._refresh_loop = None
        metrics.refresh_pools()  # this worker's pool series exist before its first request

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if asyncio._get_running_loop() is not self._refresh_loop:
            self._start_refreshing(asyncio.get_running_loop())
        exchange = Exchange(scope, send)
        token = current.set(exchange)
        tally.in_flight += 1
        try:
            await self.app(scope, receive, exchange.send)
        except Exception:
            logger.exception("unhandled exception")
            raise
        finally:
            if not exchange.finished:
                exchange.finish()
            current.reset(token)

    def _start_refreshing(self, loop):
        """Every worker writes its requests' and pools' figures each second
        (METRICS_REFRESH_SECONDS), so that whichever worker answers a scrape shows the others'
        as they are, idle or not."""
        self._refresh_loop = loop
        metrics.refresh()

        def refresh():
            if self._refresh_loop is loop and not loop.is_closed():
                metrics.refresh()
                loop.call_later(settings.METRICS_REFRESH_SECONDS, refresh)

        loop.call_later(settings.METRICS_REFRESH_SECONDS, refresh)


class Exchange(RequestContext):
    """One request on its way through the wrapper: its id and user (the request's context for
    the log lines), its response's status, its time."""

    __slots__ = ("_send", "finished", "replayed", "scope", "started", "status")

    def __init__(self, scope, send):
        self.started = time.perf_counter()
        self.scope = scope
        self._send = send
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value
                break
        self.request_id = request_id_from(request_id)
        self.user_id = None
        self.status = 500  # what the server answers if the application never starts a response
        self.replayed = False
        self.finished = False

    async def send(self, message):
        if message["type"] == "http.response.start":
            self.status = message["status"]
            # A new list in the application's message, as Starlette's MutableHeaders does.
            message["headers"] = headers = [
                *message.get("headers", ()),
                (b"x-request-id", self.request_id.encode()),
            ]
            if self.status == 201:
                self.replayed = REPLAYED in headers
        elif not message.get("more_body", False):
            # Counted and logged before the last byte leaves: a client that has the whole
            # response (and then scrapes, or reads the log) finds it there.
            self.finish()
        await self._send(message)

    def finish(self):
        self.finished = True
        duration = time.perf_counter() - self.started
        tally.in_flight -= 1
        method = self.scope["method"]
        if method not in METHODS:
            method = "other"
        route = route_of(self.scope["path"])
        tally.count(method, route, self.status, duration)
        if self.replayed:
            tally.count_replay(route)
        if logger.isEnabledFor(logging.INFO):
            message = _message(method, route, self.status)
            logger.handle(RequestRecord(message, method, route, self.status, duration, self))
