"""The change feed (GET /api/sync): every todo and list of a user changed since a token, and the
ids of those deleted, a page at a time. The database stamps each written row with its
transaction's id and writes a tombstone for each deleted one (migration 0012); this module reads
them. Why a client that applies every page never misses a change: docs/sync.md.

A token names a snapshot's xmin: every transaction with a smaller id had ended when the page
was read, so all that it wrote was visible to that read. The next sync returns every row stamped
at or above it. A page of a pass that goes on (`more`) also carries the pass's first snapshot
(its xmin, the token the pass ends with, and its xmax, which bounds the pass) and a keyset
position (phase, stamp, id) to go on from.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Expression, F, Func, Max, Q, Value
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import exceptions

from .api.serializers import list_data, todo_data
from .models import SyncPurge, SyncTombstone, Todo, TransactionIdField
from .selectors import lists_with_open_counts

PAGE_SIZE = 1000
LISTS, TODOS, TOMBSTONES = 0, 1, 2
_TOKEN = re.compile(r"(\d{1,19})(?:\.(\d{1,19})\.(\d{1,19})\.([012])\.(\d{1,19})\.(\d{1,19}))?")
_MAX = 2**63 - 1


class BadSyncToken(exceptions.ValidationError):
    def __init__(self):
        super().__init__({"token": ["Not a sync token of this server."]})


class SyncTokenGone(exceptions.APIException):
    status_code = 410
    default_detail = (
        "This sync token is older than the deletes this server remembers: "
        "sync again without a token (a full sync)."
    )
    default_code = "gone"


class SyncStamp(Expression):
    """The `sync_xid` column of the queried table (todos or todo_lists): the id of the
    transaction that last wrote the row. Not a model field, so that no other query reads it."""

    output_field = TransactionIdField()

    def as_sql(self, compiler, connection):
        alias = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{alias}.sync_xid", []


class RowAfter(Func):
    """`(a, b) > (c, d)`, as PostgreSQL compares rows: a keyset position that an index on
    (..., a, b) reads as one range."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        parts = [compiler.compile(each) for each in self.get_source_expressions()]
        (a, b, c, d) = (sql for sql, _ in parts)
        return f"({a}, {b}) > ({c}, {d})", [p for _, params in parts for p in params]


def _xid(value):
    return Cast(Value(str(value)), TransactionIdField())


class _Pass:
    """Where a sync stands: `base` (changes at or above it are due; 0 for a full sync), the
    pass's first snapshot (`xmin`, `xmax`) and the position (phase, stamp, id) to go on from."""

    def __init__(self, base, xmin=None, xmax=None, phase=LISTS, stamp=0, pk=0):
        self.base, self.xmin, self.xmax = base, xmin, xmax
        self.phase, self.stamp, self.pk = phase, stamp, pk

    @classmethod
    def parse(cls, token):
        if token is None:
            return cls(0)
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise BadSyncToken()
        numbers = [int(n) for n in match.groups() if n is not None]
        if any(n > _MAX for n in numbers):
            raise BadSyncToken()
        if len(numbers) == 1:
            return cls(numbers[0])
        base, xmin, xmax, phase, stamp, pk = numbers
        if not base <= xmin <= xmax or (phase != LISTS and stamp < base):
            raise BadSyncToken()
        return cls(base, xmin, xmax, phase, stamp, pk)

    def token(self):
        return ".".join(
            str(n) for n in (self.base, self.xmin, self.xmax, self.phase, self.stamp, self.pk)
        )


def current_token():
    """A token from which the next sync returns whatever changes from now on (live updates
    start their streams from it). Needs no transaction of its own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        return cursor.fetchone()[0]


def changes_since(user, token=None):
    """One page of the feed for `user`: {"lists", "todos", "deleted_lists", "deleted_todos",
    "token", "more"}: every list and todo of theirs changed since `token` (None: all of them)
    in its latest state, the ids of those deleted, at most PAGE_SIZE objects in all. With
    `more`, call again with the page's token. BadSyncToken (400) for a token this server did not
    make; SyncTokenGone (410) for one older than the oldest tombstone kept."""
    at = _Pass.parse(token)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute(
                "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text "
                "FROM pg_current_snapshot() AS s"
            )
            xmin, xmax = (int(n) for n in cursor.fetchone())
        if at.base > xmax:
            raise SyncTokenGone()  # from another database (a restore, say): start again
        if at.base and _purged_from(at.base):
            raise SyncTokenGone()
        if at.xmin is None:  # the pass starts here
            at.xmin, at.xmax = xmin, xmax
        return _page(user, at)


def _purged_from(base):
    purged = SyncPurge.objects.aggregate(up_to=Max("max_xid"))["up_to"]
    return purged is not None and purged >= base


def _page(user, at):
    found = []  # (phase, stamp, id, object), in feed order, PAGE_SIZE + 1 at most
    phases = (LISTS, TODOS, TOMBSTONES) if at.base else (LISTS, TODOS)
    for phase in phases:
        if phase < at.phase:
            continue
        after = (at.stamp, at.pk) if phase == at.phase else (at.base, 0)
        found += _READERS[phase](user, at, after, PAGE_SIZE + 1 - len(found))
        if len(found) > PAGE_SIZE:
            break
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    page = {"lists": [], "todos": [], "deleted_lists": [], "deleted_todos": []}
    for phase, _, _, obj in found:
        if phase == LISTS:
            page["lists"].append(list_data(obj))
        elif phase == TODOS:
            page["todos"].append(todo_data(obj))
        else:
            key = "deleted_todos" if obj.kind == SyncTombstone.TODO else "deleted_lists"
            page[key].append(obj.object_id)
    if more:
        at.phase, at.stamp, at.pk = found[-1][:3]
        page["token"] = at.token()
    else:
        page["token"] = str(at.xmin)
    page["more"] = more
    return page


def _lists(user, at, after, limit):
    """The lists changed, or whose open count may have: a todo of theirs written or deleted
    (a todo that moved away stamps the list it left). A user's lists are few: by id."""
    lists = lists_with_open_counts(user).filter(pk__gt=after[1]).order_by("pk")
    if at.base:
        lists = lists.alias(stamp=SyncStamp()).filter(
            Q(stamp__gte=at.base)
            | Q(pk__in=_todos_from(user, at.base).values("list_id"))
            | Q(
                pk__in=SyncTombstone.objects.filter(
                    user_id=user.pk, kind=SyncTombstone.TODO, xid__gte=at.base
                ).values("list_id")
            )
        )
    return [(LISTS, 0, each.pk, each) for each in lists[:limit]]


def _todos_from(user, base):
    return Todo.objects.for_owner(user).alias(stamp=SyncStamp()).filter(stamp__gte=base)


def _todos(user, at, after, limit):
    todos = (
        Todo.objects.for_owner(user)
        .annotate(stamp=SyncStamp())
        .filter(RowAfter(SyncStamp(), F("id"), _xid(after[0]), Value(after[1])))
        .filter(stamp__lt=at.xmax)
        .order_by("stamp", "id")
    )
    return [(TODOS, each.stamp, each.pk, each) for each in todos[:limit]]


def _tombstones(user, at, after, limit):
    tombstones = (
        SyncTombstone.objects.filter(user_id=user.pk, xid__lt=at.xmax)
        .filter(RowAfter(F("xid"), F("id"), _xid(after[0]), Value(after[1])))
        .order_by("xid", "id")
        .only("id", "kind", "object_id", "xid")
    )
    return [(TOMBSTONES, each.xid, each.pk, each) for each in tombstones[:limit]]


_READERS = {LISTS: _lists, TODOS: _todos, TOMBSTONES: _tombstones}


def purge_tombstones():
    """Delete the tombstones older than SYNC_TOMBSTONE_DAYS, and remember the newest transaction
    they came from: a token from before it is 410. Returns how many went."""
    cutoff = timezone.now() - timedelta(days=settings.SYNC_TOMBSTONE_DAYS)
    with transaction.atomic():
        old = SyncTombstone.objects.filter(deleted_at__lt=cutoff)
        newest = old.aggregate(newest=Max("xid"))["newest"]
        if newest is None:
            return 0
        deleted, _ = old.filter(xid__lte=newest).delete()
        SyncPurge.objects.create(max_xid=newest, deleted=deleted)
        return deleted
