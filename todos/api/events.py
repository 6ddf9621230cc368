"""GET /api/events: the caller's changes as Server-Sent Events (docs/sync.md, "Events").

Two doors, one implementation (`answer`), as for the other endpoints: `EventsDoor`, in front of
the whole ASGI application, serves every GET of /api/events on the event loop, token or session;
`EventsView` is the same endpoint behind Django's handler and URLconf (Django's test client,
the route's name and its 405 to other methods). The door is there because Django's handler
runs each request's sync middleware in a thread of the request's own (asgiref's
ThreadSensitiveContext), which lives as long as the response: one thread per open stream.
"""

import asyncio
import contextlib
import io
import logging
from importlib import import_module

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import aget_user
from django.core.handlers.asgi import ASGIRequest
from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from .. import api_pool, events, executor
from . import fastlane, schema
from .auth import CachedTokenAuthentication
from .views import APIView

logger = logging.getLogger(__name__)

PATH = "/api/events"
DATABASE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError)
STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
}

_authentication = CachedTokenAuthentication()
_render = JSONRenderer().render


class TooManyStreams(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_streams"


async def answer(request, session_user):
    """(status, headers, body): a stream's body is an async iterator of bytes, an error's is
    bytes of JSON in the API's error format. `session_user()` gives the session's user.

    What keeps a stream from opening for a while (Redis, the listener, the database, a drain)
    is a 200 that says `retry:` and ends: an EventSource gives up for good on any other status,
    and comes back after the retry time on this one."""
    try:
        user = await _user(request, session_user)
        hub = events.hub()
        try:
            stream = await hub.open(user, None)
        except events.TooManyStreams:
            limit = settings.EVENTS_MAX_STREAMS_PER_USER
            raise TooManyStreams(
                f"Too many event streams open: the limit is {limit} a user."
            ) from None
        try:
            first = await _resume(request, stream)
        except BaseException:
            hub.close(stream)
            raise
        return 200, dict(STREAM_HEADERS), events.stream_events(stream, first)
    except events.Unavailable as exc:
        return 200, dict(STREAM_HEADERS), events.retry(exc, settings.EVENTS_RETRY_MS)
    except DATABASE_ERRORS as exc:
        logger.warning("events: no stream, the database is unavailable: %r", exc)
        reason = "the database is unavailable"
        return 200, dict(STREAM_HEADERS), events.retry(reason, settings.EVENTS_RETRY_MS)
    except exceptions.APIException as exc:
        return _error(request, exc)


async def _user(request, session_user):
    key = _authentication.key_from_header(request)
    if key is not None:
        return await _authentication.user_for_key(key)
    user = await session_user()
    if not user.is_authenticated:
        raise exceptions.NotAuthenticated()
    return user


async def _resume(request, stream):
    """The first page after Last-Event-ID (the header an EventSource sends when it reconnects,
    else `?last_event_id=`), read after the stream was registered so that nothing committed
    between the two is missed; without one the stream starts from now. A bad or too old token
    is the sync feed's 400 or 410."""
    token = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    if not token:
        stream.token = await events.current_token()
        return None
    stream.token = token
    try:
        return await events.hub().changes(stream)
    except exceptions.ValidationError as exc:  # the feed's {"token": [...]}: it came as this
        raise exceptions.ValidationError({"Last-Event-ID": exc.detail["token"]}) from None


def _error(request, exc):
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        exc.auth_header = _authentication.authenticate_header(request)
    response = api_settings.EXCEPTION_HANDLER(exc, {"request": request})
    headers = {k: v for k, v in response.items() if k.lower() != "content-type"}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        headers["Retry-After"] = str(max(1, settings.EVENTS_RETRY_MS // 1000))
    headers["Content-Type"] = "application/json"
    return response.status_code, headers, _render(response.data)


class EventsView(APIView):
    """The endpoint behind Django's handler (see the module's docstring): DRF only for its
    405 and the schema; `answer` authenticates."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    http_method_names = ["get"]  # HEAD would open a stream too

    @extend_schema(**schema.events)
    async def get(self, request):
        django_request = request._request
        if not isinstance(django_request, ASGIRequest):
            # Under WSGI (runserver, wsgi.py) Django would read the endless stream whole
            # before sending a byte. 204 tells an EventSource to stop asking: not live there.
            return HttpResponse(status=status.HTTP_204_NO_CONTENT)
        code, headers, body = await answer(django_request, django_request.auser)
        if isinstance(body, bytes):
            response = HttpResponse(body, status=code)
        else:
            response = StreamingHttpResponse(body, status=code)
        for name, value in headers.items():
            response[name] = value
        return response


class EventsDoor:
    """ASGI: GET /api/events on the event loop, everything else to `app`. A request Django must
    refuse (a host ALLOWED_HOSTS does not allow, plain HTTP where HTTPS is required) goes to
    Django, which refuses it."""

    def __init__(self, app):
        self.app = app
        self.security = fastlane.FastLane(None)  # its security headers, as the lane adds them

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "GET"
            or not fastlane._secure_enough(scope)
            or not fastlane._host_allowed(_header(scope, b"host"))
        ):
            await self.app(scope, receive, send)
            return
        request = ASGIRequest(scope, io.BytesIO())
        # A token is looked up on the lane's pool, as the lane does; a session on Django's.
        token = _header(scope, b"authorization") is not None
        pool = executor.request_pool.set(await api_pool.opened() if token else None)
        try:
            code, headers, body = await answer(request, lambda: _session_user(request))
        finally:
            executor.request_pool.reset(pool)
        headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()]
        headers += self.security.security_headers(request)
        if isinstance(body, bytes):
            headers.append((b"content-length", b"%d" % len(body)))
            await send({"type": "http.response.start", "status": code, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await _stream(body, receive, send)


async def _stream(body, receive, send):
    """Send the body's pieces until it ends or the client goes away; then the body's task is
    cancelled (CancelledError in events.stream_events, as Django's handler does it)."""
    task = asyncio.current_task()
    gone = False

    async def watch():
        nonlocal gone
        while (await receive())["type"] != "http.disconnect":
            pass
        gone = True
        task.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        async with contextlib.aclosing(body):
            async for piece in body:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    except asyncio.CancelledError:
        if not gone:
            raise  # the server is cancelling us, not the client's disconnect
        task.uncancel()
    finally:
        watcher.cancel()


def _header(scope, name):
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


async def _session_user(request):
    """The user of the request's session cookie, as Django's AuthenticationMiddleware finds it;
    Django's connection goes back to its pool at once."""
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    try:
        return await aget_user(request)
    finally:
        await _close_old_connections()


_close_old_connections = sync_to_async(close_old_connections)
