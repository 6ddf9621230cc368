"""The fast lane's direct answers: the calls the lane takes, answered without DRF's per-request
objects.

On the lane, DRF's view machinery (its Request, the authenticator, permission and throttle
objects, content negotiation, Response and renderer call), the URL resolver and Django's response
object cost more CPU than the work itself: 58% of a lane GET (`python -m bench.plumbing`). The
answer needs none of them. `answer` does what the DRF views in todos.api.views do, in the same
order, with the same parts: the token's cached user, the write throttle, the JSON parser,
TodoSerializer, TodoFilterSerializer, TodoCursorPagination, the selectors and services, todo_data,
the ETag, DRF's exception handler and JSON renderer.

When a call is not plain, `answer` returns None before anything is counted or written, and the
lane hands the request to the DRF view: no token or a bad one (401 with its WWW-Authenticate), a
body that is not `application/json` or has no length (415, or DRF's empty-body rules), an id out
of range (the catch-all 404). A test sends the same calls here and through Django's full handler
and compares the answers (todos/tests/test_direct_answers.py).
"""

import io

from django.core.handlers.exception import response_for_exception
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from .. import selectors, services
from .auth import CachedTokenAuthentication
from .etag import etag_for
from .pagination import TodoCursorPagination
from .serializers import TodoBulkSerializer, TodoFilterSerializer, TodoSerializer, todo_data
from .throttling import athrottle_writes
from .views import NO_SUCH_TODO, TodoBulkView, TodoDetailView, TodoListView

MAX_TODO_ID = 2**63 - 1
WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))
BODIES = frozenset(("POST", "PUT", "PATCH"))


def _allow(view_class):
    """The Allow header DRF sends for the view (View.setup adds HEAD where there is a GET)."""
    view = view_class()
    view.setup(None)
    return ", ".join(view.allowed_methods).encode()


ALLOW = {
    "list": _allow(TodoListView),
    "detail": _allow(TodoDetailView),
    "bulk": _allow(TodoBulkView),
}

_authentication = CachedTokenAuthentication()
_render = JSONRenderer().render


class Answer:
    """An HTTP answer as ASGI sends it."""

    def __init__(self, status, headers, body=b""):
        self.status, self.headers, self.body = status, headers, body

    async def send(self, send):
        headers = [*self.headers, (b"content-length", b"%d" % len(self.body))]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


async def answer(request, endpoint, pk, extra_headers):
    """The answer to a lane request, or None when the DRF view should give it. `endpoint`:
    "list" (/api/todo), "detail" (/api/todo/<pk>) or "bulk" (/api/todo/bulk); `extra_headers`:
    what the security middlewares add."""
    if endpoint == "detail" and not 1 <= pk <= MAX_TODO_ID:
        return None
    if endpoint == "bulk" and request.method != "POST":
        return None
    try:
        user = await _user(request)
        if user is None or (request.method in BODIES and not _plain_json_body(request)):
            return None
        status, data, headers = await _call(request, user, endpoint, pk)
    except exceptions.AuthenticationFailed:  # from _user: nothing is counted or written yet
        return None  # the view answers 401 with its WWW-Authenticate header
    except Exception as exc:
        response = api_settings.EXCEPTION_HANDLER(exc, {"request": request})
        if response is None:  # what Django's handler does with it: a logged 500
            response = response_for_exception(request, exc)
            headers = headers_of(response, but=()) + extra_headers
            return Answer(response.status_code, headers, response.content)
        status, data, headers = response.status_code, response.data, headers_of(response)
    headers.append((b"allow", ALLOW[endpoint]))
    headers += extra_headers
    if data is None:
        return Answer(status, headers)
    return Answer(status, [(b"content-type", b"application/json"), *headers], _render(data))


async def _call(request, user, endpoint, pk):
    """(status, data, headers) of the call, as the DRF view answers it."""
    method = request.method
    if method in WRITES:
        wait = await athrottle_writes(user.pk)
        if wait is not None:
            raise exceptions.Throttled(wait)
    if endpoint == "bulk":
        items = _validated(request, TodoBulkSerializer)
        todos = await services.acreate_todos(owner=user, items=items)
        return 201, [todo_data(t) for t in todos], []
    if endpoint == "list":
        if method == "GET":
            filters = TodoFilterSerializer.from_query(request.GET)
            paginator = TodoCursorPagination(request)
            fetched = await selectors.alist_todos(owner=user, filters=filters, paginator=paginator)
            return 200, paginator.page(fetched, lambda page: [todo_data(t) for t in page]), []
        fields = _validated(request, TodoSerializer)
        todo = await services.acreate_todo(owner=user, **fields)
        location = request.build_absolute_uri(f"/api/todo/{todo.pk}")
        return 201, todo_data(todo), [(b"location", location.encode()), _etag(todo)]
    if method == "DELETE":
        if not await services.adelete_todo(owner=user, pk=pk):
            raise exceptions.NotFound(NO_SUCH_TODO)
        return 204, None, []
    if method == "GET":
        todo = await selectors.aget_todo(owner=user, pk=pk)
    else:
        fields = _validated(request, TodoSerializer, partial=method == "PATCH")
        todo = await services.aupdate_todo(owner=user, pk=pk, **fields)
    if todo is None:
        raise exceptions.NotFound(NO_SUCH_TODO)
    return 200, todo_data(todo), [_etag(todo)]


async def _user(request):
    """The token's user; None without a token. Raises AuthenticationFailed as DRF would."""
    key = _authentication.key_from_header(request)
    return None if key is None else await _authentication.user_for_key(key)


def _plain_json_body(request):
    """Whether DRF would parse this body with the JSON parser: a length, and exactly that type."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > 0 and request.META.get("CONTENT_TYPE") == "application/json"


def _validated(request, serializer_class, **kwargs):
    [parser] = api_settings.DEFAULT_PARSER_CLASSES  # todos.api.errors.JSONParser
    serializer = serializer_class(data=parser().parse(io.BytesIO(request.body)), **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _etag(todo):
    return (b"etag", etag_for(todo).encode())


def headers_of(response, but=("content-type",)):
    """The headers of a Django response, by default but its Content-Type (answers set theirs)."""
    return [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.items()
        if name.lower() not in but
    ]
