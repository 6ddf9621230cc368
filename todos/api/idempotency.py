"""Idempotent retries for creating endpoints: `Idempotency-Key: <key>` on POST /api/todo and
POST /api/todo/bulk.

The first request with a key claims it with `INSERT ... ON CONFLICT DO NOTHING` on the unique
(user, key) row, runs the view, and stores the response in that row, all in the transaction that
inserts the todos: the key is claimed exactly when the todos exist. A retry that arrives while the
first is still running waits on the unique index until the first commits (then it replays the
stored response) or rolls back (then it runs itself). So concurrent retries create one result.

The same key with another request body (or on another endpoint) is 422. Keys belong to one user
and expire after IDEMPOTENCY_KEY_TTL seconds (24 h); `manage.py purge_idempotency_keys` deletes
expired ones. Requests that fail (4xx, 503) store nothing and may be retried with the same key.
"""

import datetime as dt
import functools
import hashlib
import json
import re

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_HEADERS = ("Location", "ETag")
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class IdempotencyKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.TextField(default="")  # the JSON as sent, its keys in their order
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "todos"
        db_table = "idempotency_keys"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_keys_user_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idx_idempotency_created_at")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was already used with a different request. Use a new key."
    )
    default_code = "idempotency_key_reused"


class BadKey(exceptions.ParseError):
    default_detail = "Idempotency-Key must be 1-255 visible ASCII characters."


def fingerprint(request):
    """The request's method, path and JSON body (key order and spacing do not count)."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(view_method):
    """Make a creating view method replay its first response for a repeated Idempotency-Key."""

    @functools.wraps(view_method)
    async def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return await view_method(view, request, *args, **kwargs)
        if not _KEY.match(key):
            raise BadKey()
        return await sync_to_async(_claim_and_run, thread_sensitive=True)(
            view_method, view, request, key, fingerprint(request), args, kwargs
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


def _claim_and_run(view_method, view, request, key, fingerprint, args, kwargs):
    with transaction.atomic():
        with connection.cursor() as cursor:
            ttl = dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
            cursor.execute(_CLAIM_SQL, [request.user.pk, key, fingerprint, ttl])
            claimed = cursor.fetchone()
        if claimed is None:
            return _replay(request.user, key, fingerprint)
        # The view's own queries run back on this thread, inside this transaction.
        response = async_to_sync(view_method)(view, request, *args, **kwargs)
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)
            return response
        IdempotencyKey.objects.filter(pk=claimed[0]).update(
            status_code=response.status_code,
            body=json.dumps(response.data, cls=DjangoJSONEncoder),
            headers={name: response[name] for name in STORED_HEADERS if response.has_header(name)},
        )
        return response


def _replay(user, key, fingerprint):
    stored = IdempotencyKey.objects.get(user=user, key=key)
    if stored.fingerprint != fingerprint:
        raise KeyReused()
    return Response(
        json.loads(stored.body),
        status=stored.status_code,
        headers={**stored.headers, REPLAYED_HEADER: "true"},
    )


def purge_expired():
    """Delete keys past their expiry; returns how many."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
