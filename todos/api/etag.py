"""ETags on todo responses and If-Match on PUT, PATCH and DELETE (lost-update protection).

A todo's ETag is its id and `updated_at` to the microsecond: every write moves `updated_at`, so
the ETag changes exactly when the todo does. With `If-Match`, the view runs in one transaction
that first locks the todo's row (SELECT ... FOR UPDATE) and compares ETags: of two writers holding
the same ETag, the second waits for the first, then sees the new `updated_at` and gets 412.
Without `If-Match` nothing changes (no lock, no transaction).
"""

import datetime as dt
import functools

from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, status

from ..models import Todo

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


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The todo has changed since you read it: fetch it again and retry."
    default_code = "precondition_failed"


def conditional(view_method):
    """For a view method that answers with one todo, or changes the todo `pk`: add its ETag to
    the response, and honour If-Match on PUT, PATCH and DELETE atomically."""

    @functools.wraps(view_method)
    async def wrapper(view, request, *args, **kwargs):
        if_match = request.headers.get("If-Match")
        if (
            if_match is None
            or "pk" not in kwargs
            or request.method not in ("PUT", "PATCH", "DELETE")
        ):
            response = await view_method(view, request, *args, **kwargs)
        else:
            response = await sync_to_async(_locked, thread_sensitive=True)(
                view_method, view, request, if_match, args, kwargs
            )
        return with_etag(response)

    return wrapper


def _locked(view_method, view, request, if_match, args, kwargs):
    with transaction.atomic():
        todo = (
            Todo.objects.for_owner(request.user)
            .select_for_update()
            .only("pk", "updated_at")
            .filter(pk=kwargs["pk"])
            .first()
        )
        if todo is None:
            raise exceptions.NotFound("No todo with this id.")
        if not matches(if_match, etag_for(todo)):
            raise PreconditionFailed()
        # The view's own queries run back on this thread, inside this transaction.
        return async_to_sync(view_method)(view, request, *args, **kwargs)


def with_etag(response):
    data = getattr(response, "data", None)
    if 200 <= response.status_code < 300 and isinstance(data, dict) and "updated_at" in data:
        response["ETag"] = etag(data["id"], parse_datetime(data["updated_at"]))
    return response
