"""The API fast lane: token-authenticated calls to /api/todo, /api/todo/<id> and /api/todo/bulk,
served on the event loop.

Django's ASGI handler gives every request a thread of its own, sends the request_started and
request_finished signals, and runs the whole middleware chain (each sync middleware in a thread
hop); the views' queries then run in yet another hop. For the hot endpoints none of that is
needed: this lane answers them itself (todos.api.direct) with the views' own parts, or hands
them to the same DRF views resolved from the same URLconf, and runs their ORM-compiled
statements on an asyncio psycopg pool (see todos.executor), with no thread hop at all. Everything
else, and any request the lane does not cover (session cookies without a token,
Idempotency-Key, If-Match, other paths), goes to Django's handler unchanged.

What the lane does instead of the middleware: Host validation, SecurityMiddleware and
XFrameOptionsMiddleware run as plain function calls, and Content-Length is set. No session,
CSRF or messages: token requests use none of them. Nothing here listens to request_started /
request_finished. Only bulk creates touch Django's own connection (abulk_create, one thread
hop); the lane gives it back to Django's pool after each of them, as request_finished would.
"""

import asyncio
import re
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import response_for_exception
from django.db import close_old_connections, connections
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import get_resolver, set_script_prefix
from psycopg_pool import AsyncConnectionPool

from ..db import api_pool_connection_kwargs
from ..executor import lane_pool
from . import direct

LANE_PATHS = re.compile(r"/api/todo(?:/([0-9]{1,19})|/(bulk))?")  # groups: an id, bulk
BULK_PATH = "/api/todo/bulk"
LANE_METHODS = frozenset(("GET", "POST", "PUT", "PATCH", "DELETE"))
# Requests with these headers need the features of the full stack (see docs).
FULL_STACK_HEADERS = frozenset((b"idempotency-key", b"if-match"))
# This process's lane pool once opened, for the pool-status view.
open_pool = None
# A pooled connection idle for longer than this is checked before reuse (the seed's pre-ping);
# checking every checkout would cost a round trip per request.
CHECK_AFTER_IDLE_SECONDS = 1.0


def takes(scope):
    """Whether the lane serves this request: a token call to a hot endpoint."""
    if scope["type"] != "http" or scope["method"] not in LANE_METHODS:
        return False
    if not LANE_PATHS.fullmatch(scope["path"]):
        return False
    has_token = False
    for name, value in scope["headers"]:
        if name in FULL_STACK_HEADERS:
            return False
        if name == b"authorization":
            has_token = value[:6].lower() == b"token "
    return has_token


class FastLane:
    """ASGI application: the lane for the requests it takes, Django for the rest."""

    def __init__(self, django_app):
        self.django_app = django_app
        self.handler = LaneHandler()
        self.pool = None
        self._pool_lock = None

    async def __call__(self, scope, receive, send):
        if settings.API_FAST_LANE and takes(scope):
            await self.handler.serve(scope, receive, send, await self.get_pool())
        else:
            await self.django_app(scope, receive, send)

    async def get_pool(self):
        if self.pool is None:
            self._pool_lock = self._pool_lock or asyncio.Lock()
            async with self._pool_lock:
                if self.pool is None:
                    pool = make_pool()
                    await pool.open()
                    self.pool = pool
                    global open_pool
                    open_pool = pool
        return self.pool


def make_pool():
    """The lane's pool: the same server, options and pool limits as Django's own connection
    (read from it, so tests that reconfigure one reconfigure both), sized by DB_API_POOL_*."""
    django_connection = connections["default"]
    kwargs = api_pool_connection_kwargs(django_connection)
    if "options" in kwargs:
        # psycopg's C loaders give aware datetimes in the session's time zone: pin it to UTC
        # (behind PgBouncer, `manage.py configure_role` sets it on the role).
        kwargs["options"] += " -c TimeZone=UTC"
    limits = django_connection.settings_dict["OPTIONS"]["pool"]
    return AsyncConnectionPool(
        kwargs={**kwargs, "autocommit": True},
        min_size=settings.DB_API_POOL_MIN_SIZE,
        max_size=settings.DB_API_POOL_MAX_SIZE,
        timeout=limits["timeout"],
        max_waiting=limits["max_waiting"],
        max_lifetime=limits["max_lifetime"],
        check=_check_if_idle,
        reset=_note_return,
        name="api-fast-lane",
        open=False,
    )


async def _note_return(conn):
    conn._returned_at = time.monotonic()


async def _check_if_idle(conn):
    idle = time.monotonic() - getattr(conn, "_returned_at", 0.0)
    if idle > CHECK_AFTER_IDLE_SECONDS:
        await AsyncConnectionPool.check_connection(conn)


class LaneHandler(ASGIHandler):
    """Django's ASGI request and response plumbing, without the middleware chain."""

    def __init__(self):  # no load_middleware(): the lane runs none of it
        self.resolver = get_resolver()
        self.security = SecurityMiddleware(_never_called)
        self.xframe = XFrameOptionsMiddleware(_never_called)
        self._security_headers = {}  # is_secure() -> the headers the two middlewares add

    async def serve(self, scope, receive, send, pool):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, response = self.create_request(scope, body_file)
        if request is not None:
            token = lane_pool.set(pool)
            try:
                response = await self.answer_directly(request) or await self.respond(request)
            finally:
                lane_pool.reset(token)
                if request.path_info == BULK_PATH:
                    # abulk_create ran on Django's connection in asgiref's one sync thread:
                    # give it back to Django's pool, as request_finished would.
                    await _close_old_connections()
        if isinstance(response, direct.Answer):
            await response.send(send)
        else:
            response.headers.setdefault("Content-Length", str(len(response.content)))
            await self.send_response(response, send)
        body_file.close()

    async def answer_directly(self, request):
        """The answer of todos.api.direct, or None when the DRF view is to give it."""
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check it
        except DisallowedHost:
            return None
        match = LANE_PATHS.fullmatch(request.path_info)
        if match is None or self.security.process_request(request) is not None:  # HTTPS redirect
            return None
        pk, bulk = match.groups()
        endpoint = "detail" if pk else "bulk" if bulk else "list"
        return await direct.answer(
            request, endpoint, pk and int(pk), self.security_headers(request)
        )

    def security_headers(self, request):
        """What SecurityMiddleware and XFrameOptionsMiddleware add to an answer (they depend
        only on the settings and on whether the request came over HTTPS)."""
        secure = request.is_secure()
        headers = self._security_headers.get(secure)
        if headers is None:
            response = self.security.process_response(request, HttpResponse())
            response = self.xframe.process_response(request, response)
            headers = self._security_headers[secure] = direct.headers_of(response)
        return headers

    async def respond(self, request):
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check it
            response = self.security.process_request(request)
            if response is None:
                match = self.resolver.resolve(request.path_info)
                request.resolver_match = match
                response = await match.func(request, *match.args, **match.kwargs)
                if hasattr(response, "render"):
                    response.render()
        except Exception as exc:  # what Django's handler does with an unhandled exception
            response = response_for_exception(request, exc)
        response = self.security.process_response(request, response)
        return self.xframe.process_response(request, response)


_close_old_connections = sync_to_async(close_old_connections)


def _never_called(request):
    raise AssertionError("the lane calls these middlewares' hooks directly")
