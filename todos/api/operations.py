"""Every API endpoint, written once: its methods, which of them write (and so count against the
write throttle), the OpenAPI description of each (and so its errors), and for each method one
operation: a Call in (the user, the todo id, the parsed body, the query string), an Answer out
(status, data, headers), or one of the API's exceptions.

The DRF views (todos.api.views) and the fast lane (todos.api.fastlane) both answer a request by
`perform`ing the endpoint's operation; neither has a sequence of its own.
"""

import psycopg
from asgiref.sync import sync_to_async
from django.db import DatabaseError
from rest_framework import exceptions

from .. import executor, replica, selectors, services, sync
from ..models import MOVE_HINT, TodoListNotFound, TodoNotFound
from . import schema
from .answers import Answer
from .etag import etag_for, if_match, still_current
from .idempotency import idempotent
from .pagination import TodoCursorPagination
from .parsers import JSONParser
from .serializers import (
    MoveSerializer,
    TodoBulkDeleteSerializer,
    TodoBulkSerializer,
    TodoBulkUpdateSerializer,
    TodoFilterSerializer,
    TodoListSerializer,
    TodoSerializer,
    list_data,
    todo_data,
)
from .throttling import athrottle_writes

# The one parser of request bodies: the views parse with it, and the lane takes only bodies of
# its media type.
BODY_PARSER = JSONParser

# The order in which DRF lists the methods of a view in its Allow header.
_METHOD_ORDER = ("get", "post", "put", "patch", "delete", "head", "options")


class Operation:
    def __init__(self, run, *, schema, writes=False):
        self.run, self.schema, self.writes = run, schema, writes


class Endpoint:
    """One URL's operations by lower-case HTTP method."""

    def __init__(self, name, **operations):
        self.name, self.operations = name, operations
        methods = {*operations, "options"} | ({"head"} if "get" in operations else set())
        self.allow = ", ".join(m.upper() for m in _METHOD_ORDER if m in methods)


async def perform(operation, call):
    """The one sequence of every endpoint: the write throttle, then the operation. With a replica
    (todos.replica), a write pins its user to the primary before it is answered, and an
    operation that writes nothing reads from the replica, or again from the primary if the
    replica fails it."""
    if operation.writes:
        wait = await athrottle_writes(call.user.pk)
        if wait is not None:
            raise exceptions.Throttled(wait)
        try:
            return await operation.run(call)
        finally:
            if replica.configured():
                await replica.pin(call.user.pk)
    if not replica.configured():
        return await operation.run(call)
    async with replica.reading_as(call.user.pk):
        try:
            return await operation.run(call)
        except (DatabaseError, psycopg.Error):
            if not replica.reading():  # the primary failed it: the error stands
                raise
            replica.fall_back()
            return await operation.run(call)


def _validated(serializer):
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# One instance of each input serializer for every request, validating with run_validation (which
# keeps nothing on the instance): making a serializer deep-copies its declared fields, which cost
# more than the rest of a create (callgrind: 1.4 M instructions a TodoSerializer, against 1.9 M
# for a whole crud request on average; docs/benchmarks.md).
TODO_INPUT = TodoSerializer()
TODO_CHANGES = TodoSerializer(partial=True)
MOVE_INPUT = MoveSerializer()
LIST_INPUT = TodoListSerializer()
LIST_CHANGES = TodoListSerializer(partial=True)


def _valid_input(validator, data):
    """validator's validated data for `data`; when it is invalid, the 400 of is_valid exactly
    (which words a missing body its own way), from a serializer made for it."""
    try:
        return validator.run_validation(data)
    except exceptions.ValidationError:
        _validated(type(validator)(data=data, partial=validator.partial))
        raise


def _todos_data(todos):
    return [todo_data(todo) for todo in todos]


def _one_todo(todo, status=200, **headers):
    return Answer(status, todo_data(todo), {**headers, "ETag": etag_for(todo)})


async def list_todos(call):
    filters = TodoFilterSerializer.from_query(call.request.GET)
    paginator = TodoCursorPagination(call.request, filters["order"])
    fetched = await selectors.alist_todos(owner=call.user, filters=filters, paginator=paginator)
    return Answer(200, paginator.page(fetched, _todos_data))


@idempotent
async def create_todo(call):
    fields = _valid_input(TODO_INPUT, call.data)
    todo = await services.acreate_todo(owner=call.user, **fields)
    location = call.request.build_absolute_uri(f"/api/todo/{todo.pk}")
    return _one_todo(todo, 201, Location=location)


@idempotent
async def create_todos(call):
    items = _validated(TodoBulkSerializer(data=call.data))
    todos = await services.acreate_todos(owner=call.user, items=items)
    return Answer(201, _todos_data(todos))


@idempotent
async def update_todos(call):
    items = _validated(TodoBulkUpdateSerializer(data=call.data))
    todos = await services.aupdate_todos(owner=call.user, items=items)
    return Answer(200, _todos_data(todos))


@idempotent
async def delete_todos(call):
    ids = _validated(TodoBulkDeleteSerializer(data=call.data))["ids"]
    await services.adelete_todos_by_id(owner=call.user, ids=ids)
    return Answer(204)


async def get_todo(call):
    todo = await selectors.aget_todo(owner=call.user, pk=call.pk)
    if todo is None:
        raise TodoNotFound()
    if_none_match = call.request.headers.get("If-None-Match")
    if if_none_match is not None and still_current(if_none_match, etag_for(todo)):
        return Answer(304, None, {"ETag": etag_for(todo)})  # the client's copy is current
    return _one_todo(todo)


async def _update_todo(call, *, partial):
    fields = _valid_input(TODO_CHANGES if partial else TODO_INPUT, call.data)
    place = {name: fields.pop(name) for name in ("list_id", "parent_id") if name in fields}
    if place:  # sent back as read (ignored), or a change that only a move makes
        current = await selectors.aget_todo(owner=call.user, pk=call.pk)
        if current is None:
            raise TodoNotFound()
        moved = [name for name, value in place.items() if getattr(current, name) != value]
        if moved:
            raise exceptions.ValidationError(
                {name.removesuffix("_id"): [MOVE_HINT] for name in moved}
            )
    todo = await services.aupdate_todo(owner=call.user, pk=call.pk, **fields)
    if todo is None:
        raise TodoNotFound()
    return _one_todo(todo)


@if_match
async def replace_todo(call):
    return await _update_todo(call, partial=False)


@if_match
async def update_todo(call):
    return await _update_todo(call, partial=True)


@if_match
async def delete_todo(call):
    if not await services.adelete_todo(owner=call.user, pk=call.pk):
        raise TodoNotFound()
    return Answer(204)


async def move_todo(call):
    place = _valid_input(MOVE_INPUT, call.data)
    todo = await services.amove_todo(owner=call.user, pk=call.pk, **place)
    return _one_todo(todo)


class InboxNotDeletable(exceptions.APIException):
    status_code = 409
    default_detail = "The Inbox cannot be deleted (it can be renamed)."
    default_code = "inbox"


async def list_lists(call):
    return Answer(
        200, [list_data(each) for each in await selectors.alist_todo_lists(owner=call.user)]
    )


async def _one_list(call, pk, status=200, **headers):
    todo_list = await selectors.aget_todo_list(owner=call.user, pk=pk)
    if todo_list is None:
        raise TodoListNotFound()
    return Answer(status, list_data(todo_list), headers)


async def create_list(call):
    fields = _valid_input(LIST_INPUT, call.data)
    created = await executor.on_django_connection(services.acreate_list(owner=call.user, **fields))
    location = call.request.build_absolute_uri(f"/api/lists/{created.pk}")
    return await _one_list(call, created.pk, 201, Location=location)


async def get_list(call):
    return await _one_list(call, call.pk)


async def update_list(call):
    fields = _valid_input(LIST_CHANGES, call.data)
    if fields:
        await executor.on_django_connection(
            services.arename_list(owner=call.user, pk=call.pk, **fields)
        )
    return await _one_list(call, call.pk)


async def delete_list(call):
    try:
        await executor.on_django_connection(services.adelete_list(owner=call.user, pk=call.pk))
    except services.InboxNotDeletable:
        raise InboxNotDeletable() from None
    return Answer(204)


async def sync_changes(call):
    tokens = call.request.GET.getlist("token")
    if len(tokens) > 1:
        raise exceptions.ValidationError({"token": ["Give one token."]})
    page = sync_to_async(sync.changes_since)(call.user, tokens[0] if tokens else None)
    return Answer(200, await executor.on_django_connection(page))


TODO_LIST = Endpoint(
    "todo-list",
    get=Operation(list_todos, schema=schema.list_todos),
    post=Operation(create_todo, schema=schema.create_todo, writes=True),
)
TODO_BULK = Endpoint(
    "todo-bulk",
    post=Operation(create_todos, schema=schema.bulk_create_todos, writes=True),
    patch=Operation(update_todos, schema=schema.bulk_update_todos, writes=True),
)
TODO_BULK_DELETE = Endpoint(
    "todo-bulk-delete",
    post=Operation(delete_todos, schema=schema.bulk_delete_todos, writes=True),
)
TODO_DETAIL = Endpoint(
    "todo-detail",
    get=Operation(get_todo, schema=schema.get_todo),
    put=Operation(replace_todo, schema=schema.replace_todo, writes=True),
    patch=Operation(update_todo, schema=schema.update_todo, writes=True),
    delete=Operation(delete_todo, schema=schema.delete_todo, writes=True),
)
TODO_MOVE = Endpoint(
    "todo-move",
    post=Operation(move_todo, schema=schema.move_todo, writes=True),
)
LISTS = Endpoint(
    "list-list",
    get=Operation(list_lists, schema=schema.list_lists),
    post=Operation(create_list, schema=schema.create_list, writes=True),
)
LIST_DETAIL = Endpoint(
    "list-detail",
    get=Operation(get_list, schema=schema.get_list),
    patch=Operation(update_list, schema=schema.update_list, writes=True),
    delete=Operation(delete_list, schema=schema.delete_list, writes=True),
)
SYNC = Endpoint("sync", get=Operation(sync_changes, schema=schema.sync))
