"""The JSON API: thin async views (adrf). Serializers validate and render on the event loop
(they touch no database); every query goes through todos.executor or the ORM's async methods."""

import adrf.views
from asgiref.sync import iscoroutinefunction, sync_to_async
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response

from .. import selectors, services
from ..pool_status import pool_status
from . import schema
from .etag import conditional
from .idempotency import idempotent
from .pagination import TodoCursorPagination
from .serializers import TodoBulkSerializer, TodoFilterSerializer, TodoSerializer, todo_data

NO_SUCH_TODO = "No todo with this id."


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """The API renders only JSON: skip parsing the Accept header (parsers are still matched
    against Content-Type, so a wrong one is a 415)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class APIView(adrf.views.APIView):
    """adrf's APIView, but a token is checked on the event loop instead of in a thread.

    Requests without a token (session cookies) still authenticate in one sync_to_async hop.
    """

    content_negotiation_class = JSONOnlyNegotiation

    async def async_dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request, self.headers = request, self.default_response_headers
        try:
            await self.ainitial(request, *args, **kwargs)
            handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            if request.method.lower() not in self.http_method_names:
                handler = self.http_method_not_allowed
            if iscoroutinefunction(handler):
                response = await handler(request, *args, **kwargs)
            else:
                response = await sync_to_async(handler)(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    async def ainitial(self, request, *args, **kwargs):
        first = request.authenticators[0] if request.authenticators else None
        user_auth = await first.aauthenticate(request) if hasattr(first, "aauthenticate") else None
        if user_auth is None:
            await sync_to_async(self.initial)(request, *args, **kwargs)
            return
        request._authenticator = first
        request.user, request.auth = user_auth
        await self.acheck_throttles(request)
        self.initial(request, *args, **kwargs)  # the user is known: no query from here on

    async def acheck_throttles(self, request):
        """DRF's check_throttles, awaiting the throttles that can be awaited (Redis on the event
        loop); `initial` then skips them."""
        waits = []
        for throttle in self.get_throttles():
            if hasattr(throttle, "aallow_request"):
                allowed = await throttle.aallow_request(request, self)
            else:
                allowed = throttle.allow_request(request, self)
            if not allowed:
                waits.append(throttle.wait())
        request.throttles_checked = True
        if waits:
            self.throttled(request, max((w for w in waits if w is not None), default=None))

    def check_throttles(self, request):
        if not getattr(request, "throttles_checked", False):
            super().check_throttles(request)


def _validated(serializer):
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _created(request, todo):
    location = request.build_absolute_uri(f"/api/todo/{todo.pk}")
    return Response(todo_data(todo), status=status.HTTP_201_CREATED, headers={"Location": location})


class TokenView(APIView):
    """POST username and password, get the user's API token."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(**schema.issue_token)
    async def post(self, request):
        token = await sync_to_async(self._issue_token)(request)
        return Response({"token": token.key})

    def _issue_token(self, request):
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        token, _ = Token.objects.get_or_create(user=_validated(credentials)["user"])
        return token


class TodoListView(APIView):
    @extend_schema(**schema.list_todos)
    async def get(self, request):
        filters = TodoFilterSerializer.from_query(request.query_params)
        paginator = TodoCursorPagination(request)
        fetched = await selectors.alist_todos(
            owner=request.user, filters=filters, paginator=paginator
        )
        return Response(paginator.page(fetched, lambda page: [todo_data(t) for t in page]))

    @extend_schema(**schema.create_todo)
    @idempotent
    @conditional
    async def post(self, request):
        fields = _validated(TodoSerializer(data=request.data))
        todo = await services.acreate_todo(owner=request.user, **fields)
        return _created(request, todo)


class TodoBulkView(APIView):
    @extend_schema(**schema.bulk_create_todos)
    @idempotent
    async def post(self, request):
        items = _validated(TodoBulkSerializer(data=request.data))
        todos = await services.acreate_todos(owner=request.user, items=items)
        return Response([todo_data(t) for t in todos], status=status.HTTP_201_CREATED)


class TodoDetailView(APIView):
    @extend_schema(**schema.get_todo)
    @conditional
    async def get(self, request, pk):
        todo = await selectors.aget_todo(owner=request.user, pk=pk) or _not_found()
        return Response(todo_data(todo))

    @extend_schema(**schema.replace_todo)
    @conditional
    async def put(self, request, pk):
        return await self._update(request, pk, partial=False)

    @extend_schema(**schema.update_todo)
    @conditional
    async def patch(self, request, pk):
        return await self._update(request, pk, partial=True)

    @extend_schema(**schema.delete_todo)
    @conditional
    async def delete(self, request, pk):
        if not await services.adelete_todo(owner=request.user, pk=pk):
            _not_found()
        return Response(status=status.HTTP_204_NO_CONTENT)

    async def _update(self, request, pk, *, partial):
        fields = _validated(TodoSerializer(data=request.data, partial=partial))
        todo = await services.aupdate_todo(owner=request.user, pk=pk, **fields) or _not_found()
        return Response(todo_data(todo))


def _not_found():
    raise NotFound(NO_SUCH_TODO)


class PoolStatusView(APIView):
    """This worker process's connection pool, its bounds and counters, and the server's limits."""

    permission_classes = [IsAdminUser]

    @extend_schema(**schema.pool_status)
    async def get(self, request):
        return Response(await sync_to_async(pool_status)())
