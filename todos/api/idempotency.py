"""Idempotent retries for creating and batch endpoints: `Idempotency-Key: <key>` on POST /api/todo,
POST and PATCH /api/todo/bulk and POST /api/todo/bulk/delete.

The first request with a key claims it with `INSERT ... ON CONFLICT DO NOTHING` on the unique
(user, key) row, runs the view, and stores the response in that row, all in the transaction that
inserts the todos: the key is claimed exactly when the todos exist. A retry that arrives while the
first is still running waits on the unique index until the first commits (then it replays the
stored response) or rolls back (then it runs itself). So concurrent retries create one result.

The same key with another request body (or on another endpoint) is 422. Keys belong to one user
and expire after IDEMPOTENCY_KEY_TTL seconds (24 h); `manage.py purge_idempotency_keys` deletes
expired ones. Requests that fail (4xx, 503: an exception) store nothing and may be retried with the same key.
"""

import datetime as dt
import functools
import hashlib
import json
import re

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import exceptions, status

from ..models import IdempotencyKey
from .answers import Answer

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_HEADERS = ("Location", "ETag")
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was already used with a different request. Use a new key."
    )
    default_code = "idempotency_key_reused"


class BadKey(exceptions.ParseError):
    default_detail = "Idempotency-Key must be 1-255 visible ASCII characters."


def fingerprint(call):
    """The request's method, path and JSON body (key order and spacing do not count)."""
    body = json.dumps(call.data, sort_keys=True, separators=(",", ":"))
    request = call.request
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(operation):
    """Make a creating operation replay its first answer for a repeated Idempotency-Key."""

    @functools.wraps(operation)
    async def wrapper(call):
        key = call.request.headers.get(HEADER)
        if key is None:
            return await operation(call)
        if not _KEY.match(key):
            raise BadKey()
        return await sync_to_async(_claim_and_run, thread_sensitive=True)(
            operation, call, key, fingerprint(call)
        )

    return wrapper


_CLAIM_SQL = f"""
    INSERT INTO {IdempotencyKey._meta.db_table}
        (user_id, key, fingerprint, body, headers, created_at)
    VALUES (%s, %s, %s, '', '{{}}', now())
    ON CONFLICT (user_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, body = '',
            headers = '{{}}', created_at = EXCLUDED.created_at
        WHERE {IdempotencyKey._meta.db_table}.created_at < now() - %s
    RETURNING id
"""


def _claim_and_run(operation, call, key, fingerprint):
    with transaction.atomic():
        with connection.cursor() as cursor:
            ttl = dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
            cursor.execute(_CLAIM_SQL, [call.user.pk, key, fingerprint, ttl])
            claimed = cursor.fetchone()
        if claimed is None:
            return _replay(call.user, key, fingerprint)
        # The operation's own queries run back on this thread, inside this transaction (an
        # exception rolls the claim back with them).
        answer = async_to_sync(operation)(call)
        IdempotencyKey.objects.filter(pk=claimed[0]).update(
            status_code=answer.status,
            body=json.dumps(answer.data, cls=DjangoJSONEncoder),
            headers={
                name: answer.headers[name] for name in STORED_HEADERS if name in answer.headers
            },
        )
        return answer


def _replay(user, key, fingerprint):
    stored = IdempotencyKey.objects.get(user=user, key=key)
    if stored.fingerprint != fingerprint:
        raise KeyReused()
    return Answer(
        stored.status_code, json.loads(stored.body), {**stored.headers, REPLAYED_HEADER: "true"}
    )


def purge_expired():
    """Delete keys past their expiry; returns how many."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
