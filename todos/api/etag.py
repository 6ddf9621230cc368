"""ETags of todos, If-None-Match on GET (304 when the client's copy is current), and If-Match
on PUT, PATCH and DELETE (lost-update protection).

A todo's ETag is its id and `updated_at` to the microsecond: every write moves `updated_at`, so
the ETag changes exactly when the todo does. With `If-Match`, the operation runs in one transaction
that first locks the todo's row (SELECT ... FOR UPDATE) and compares ETags: of two writers holding
the same ETag, the second waits for the first, then sees the new `updated_at` and gets 412.
Without `If-Match` nothing changes (no lock, no transaction).
"""

import datetime as dt
import functools

from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction
from rest_framework import exceptions, status

from ..models import Todo, TodoNotFound

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def etag(pk, updated_at):
    """The strong ETag of the todo with this id and `updated_at` (an aware datetime)."""
    return f'"{pk}-{(updated_at - _EPOCH) // _MICROSECOND}"'


def etag_for(todo):
    return etag(todo.pk, todo.updated_at)


def matches(if_match, current):
    """RFC 9110 If-Match: `*` or a list of strong ETags, one of them equal to `current`."""
    if if_match.strip() == "*":
        return True
    return current in (candidate.strip() for candidate in if_match.split(","))


def still_current(if_none_match, current):
    """RFC 9110 If-None-Match on a GET: whether the client's copy is still current (`*`, or one
    of the listed ETags, compared weakly: a `W/` prefix does not count), so the answer is 304."""
    if if_none_match.strip() == "*":
        return True
    candidates = (c.strip().removeprefix("W/") for c in if_none_match.split(","))
    return current in candidates


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The todo has changed since you read it: fetch it again and retry."
    default_code = "precondition_failed"


def if_match(operation):
    """For an operation that changes the todo `call.pk`: honour If-Match atomically."""

    @functools.wraps(operation)
    async def wrapper(call):
        header = call.request.headers.get("If-Match")
        if header is None:
            return await operation(call)
        return await sync_to_async(_locked, thread_sensitive=True)(operation, call, header)

    return wrapper


def _locked(operation, call, header):
    with transaction.atomic():
        todo = (
            Todo.objects.for_owner(call.user)
            .select_for_update()
            .only("pk", "updated_at")
            .filter(pk=call.pk)
            .first()
        )
        if todo is None:
            raise TodoNotFound()
        if not matches(header, etag_for(todo)):
            raise PreconditionFailed()
        # The operation's own queries run back on this thread, inside this transaction.
        return async_to_sync(operation)(call)
