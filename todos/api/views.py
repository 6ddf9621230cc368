"""The JSON API. Views are async (adrf); each ORM call runs through sync_to_async, and
serializers validate and render plain data on the event loop (they touch no database)."""

import os

from adrf.views import APIView
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response

from .. import services
from ..db import server_connection_limits
from ..models import Todo
from . import schema
from .etag import conditional
from .idempotency import idempotent
from .pagination import TodoCursorPagination
from .serializers import TodoBulkSerializer, TodoFilterSerializer, TodoSerializer


def _validated(serializer):
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


async def _get_owned_todo(user, pk):
    try:
        return await Todo.objects.for_owner(user).aget(pk=pk)
    except Todo.DoesNotExist:
        raise NotFound("No todo with this id.") from None


def _created(request, todo):
    location = request.build_absolute_uri(f"/api/todo/{todo.pk}")
    return Response(
        TodoSerializer(todo).data, status=status.HTTP_201_CREATED, headers={"Location": location}
    )


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
        todos = Todo.objects.for_owner(request.user).filtered(**filters)
        paginator = TodoCursorPagination()
        page = await sync_to_async(paginator.paginate_queryset)(todos, request, self)
        return paginator.get_paginated_response(TodoSerializer(page, many=True).data)

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
        return Response(TodoSerializer(todos, many=True).data, status=status.HTTP_201_CREATED)


class TodoDetailView(APIView):
    @extend_schema(**schema.get_todo)
    @conditional
    async def get(self, request, pk):
        todo = await _get_owned_todo(request.user, pk)
        return Response(TodoSerializer(todo).data)

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
            raise NotFound("No todo with this id.")
        return Response(status=status.HTTP_204_NO_CONTENT)

    async def _update(self, request, pk, *, partial):
        fields = _validated(TodoSerializer(data=request.data, partial=partial))
        todo = await _get_owned_todo(request.user, pk)
        todo = await services.aupdate_todo(todo=todo, **fields)
        return Response(TodoSerializer(todo).data)


class PoolStatusView(APIView):
    """This worker process's connection pool, its bounds and counters, and the server's limits."""

    permission_classes = [IsAdminUser]

    @extend_schema(**schema.pool_status)
    async def get(self, request):
        return Response(await sync_to_async(pool_status)())


def pool_status():
    pool = connection.pool
    pool.open()  # a no-op once open; the first request of a worker may get here first
    stats = pool.get_stats()
    limits = server_connection_limits()
    workers = settings.WEB_CONCURRENCY
    counter_names = (
        "requests_num",
        "requests_queued",
        "requests_wait_ms",
        "requests_errors",
        "requests_waiting",
        "connections_num",
        "connections_ms",
        "connections_errors",
        "connections_lost",
        "returns_bad",
    )
    return {
        "pid": os.getpid(),
        "pool": {
            "min_size": pool.min_size,
            "max_size": pool.max_size,
            "timeout": pool.timeout,
            "max_waiting": pool.max_waiting,
            "max_lifetime": pool.max_lifetime,
        },
        "connections": {
            "size": stats["pool_size"],
            "in_use": stats["pool_size"] - stats["pool_available"],
            "idle": stats["pool_available"],
        },
        "requests_waiting": stats.get("requests_waiting", 0),
        "counters": {name: stats.get(name, 0) for name in counter_names},
        "server": {
            **limits,
            "workers": workers,
            "workers_x_pool_max": workers * pool.max_size,
        },
    }
