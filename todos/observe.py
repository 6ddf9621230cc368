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
from .request_log import RequestContext, current, request_id_from

logger = logging.getLogger("todos.requests")

METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
# A path segment of digits (a todo id): paths that differ only there share a route, so the
# route is resolved once per shape. The digits become 1s, which every id pattern accepts.
ID_SEGMENT = re.compile(r"(?<=/)[0-9]+(?=/|$)")


def route_of(path):
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


class Observed:
    def __init__(self, app):
        self.app = app
        self._refresh_loop = None
        self._requests = {}  # (method, route, status) -> counter child, saves .labels()
        self._latency = {}  # (method, route) -> histogram child
        metrics.refresh_pools()  # this worker's pool series exist before its first request

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        if loop is not self._refresh_loop:
            self._start_refreshing(loop)
        started = time.perf_counter()
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value
                break
        context = RequestContext(request_id_from(request_id))
        token = current.set(context)
        header = (b"x-request-id", context.request_id.encode())
        status = 500  # what the server answers if the application never starts a response
        replayed = False
        finished = False

        def finish():
            nonlocal finished
            finished = True
            metrics.in_flight -= 1
            self._count(scope, status, replayed, time.perf_counter() - started, context)

        async def observed_send(message):
            nonlocal status, replayed
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), header]
                if status == 201:
                    replayed = any(name.lower() == b"idempotent-replayed" for name, _ in headers)
                message = {**message, "headers": headers}
            elif not message.get("more_body", False):
                # Counted and logged before the last byte leaves: a client that has the whole
                # response (and then scrapes, or reads the log) finds it there.
                finish()
            await send(message)

        metrics.in_flight += 1
        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            logger.exception("unhandled exception")
            raise
        finally:
            if not finished:
                finish()
            current.reset(token)

    def _count(self, scope, status, replayed, duration, context):
        method = scope["method"]
        if method not in METHODS:
            method = "other"
        route = route_of(scope["path"])
        key = (method, route, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = metrics.REQUESTS.labels(method, route, str(status))
        counter.inc()
        latency = self._latency.get(key[:2])
        if latency is None:
            latency = self._latency[key[:2]] = metrics.LATENCY.labels(method, route)
        latency.observe(duration)
        if status == 429:
            metrics.THROTTLED.labels(route).inc()
        elif replayed:
            metrics.REPLAYS.labels(route).inc()
        logger.info(
            "%s %s %s %.1f ms",
            method,
            route,
            status,
            duration * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_seconds": round(duration, 6),
                "user_id": context.user_id,
            },
        )

    def _start_refreshing(self, loop):
        """Every worker writes its pools' figures each second (METRICS_REFRESH_SECONDS), so that
        whichever worker answers a scrape shows the others' pools as they are, idle or not."""
        self._refresh_loop = loop
        metrics.refresh_pools()

        def refresh():
            if self._refresh_loop is loop and not loop.is_closed():
                metrics.refresh_pools()
                loop.call_later(settings.METRICS_REFRESH_SECONDS, refresh)

        loop.call_later(settings.METRICS_REFRESH_SECONDS, refresh)
