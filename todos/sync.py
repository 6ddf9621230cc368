"""The change feed (GET /api/sync): every todo and list of a user changed since a token, and the
ids of those deleted, a page at a time. The database stamps each written row with its
transaction's id and writes a tombstone for each deleted one (migration 0012); this module reads
them. Why a client that applies every page never misses a change: docs/sync.md.

A token is a snapshot (pg_current_snapshot(): xmin, xmax and the transactions in progress): what
its pass sent is exactly what that snapshot saw. The next pass, with its own first snapshot S,
sends each row whose stamp S sees and the token's snapshot did not. A page of a pass that goes on
(`more`) carries both snapshots and a keyset position (phase, stamp, id) to go on from.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    F,
    Field,
    Func,
    Max,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import exceptions

from .api.serializers import list_data, todo_data
from .models import SyncPurge, SyncTombstone, Todo, TransactionIdField
from .selectors import lists_with_open_counts

PAGE_SIZE = 1000
LISTS, TODOS, TOMBSTONES = 0, 1, 2
_MAX = 2**63 - 1
_NUMBERS = re.compile(r"\d{1,19}(\.\d{1,19})*")
# A snapshot's transactions in progress are at most one per connection; far above any server's.
_MAX_IN_PROGRESS = 10_000


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


class _PgSnapshot(Field):
    def db_type(self, connection):
        return "pg_snapshot"


class Visible(Func):
    """Whether the transaction `xid` had ended (committed) when `snapshot` was taken."""

    function = "pg_visible_in_snapshot"
    output_field = BooleanField()

    def __init__(self, xid, snapshot):
        super().__init__(xid, Cast(Value(snapshot.pg_text()), _PgSnapshot()))


def _xid(value):
    return Cast(Value(str(value)), TransactionIdField())


class Snapshot:
    """A PostgreSQL snapshot: every transaction below `xmin` had ended, none from `xmax` on
    had, and of those between, all but `running` had."""

    def __init__(self, xmin, xmax, running=()):
        self.xmin, self.xmax, self.running = xmin, xmax, tuple(running)

    @classmethod
    def parse(cls, text):
        """From token text: `xmin.(xmax - xmin)[.(running - xmin)...]`, or BadSyncToken."""
        if not _NUMBERS.fullmatch(text):
            raise BadSyncToken()
        numbers = [int(n) for n in text.split(".")]
        if len(numbers) < 2 or len(numbers) > _MAX_IN_PROGRESS + 2:
            raise BadSyncToken()
        xmin, width, *offsets = numbers
        if (
            xmin + width > _MAX
            or offsets != sorted(set(offsets))
            or any(o >= width for o in offsets)
        ):
            raise BadSyncToken()
        return cls(xmin, xmin + width, (xmin + o for o in offsets))

    @classmethod
    def from_pg(cls, text):
        xmin, xmax, running = text.split(":")
        return cls(int(xmin), int(xmax), (int(x) for x in running.split(",") if x))

    def text(self):
        return ".".join(
            str(n)
            for n in (self.xmin, self.xmax - self.xmin, *(x - self.xmin for x in self.running))
        )

    def pg_text(self):
        return f"{self.xmin}:{self.xmax}:{','.join(str(x) for x in self.running)}"


class _Pass:
    """Where a sync stands: `base`, the snapshot of the token it started from (None: a full
    sync), `first`, the pass's first snapshot (the token it ends with), and the position
    (phase, stamp, id) to go on from."""

    def __init__(self, base, first=None, phase=LISTS, stamp=0, pk=0):
        self.base, self.first = base, first
        self.phase, self.stamp, self.pk = phase, stamp, pk

    @classmethod
    def parse(cls, token):
        if token is None:
            return cls(None)
        parts = token.split("~")
        if len(parts) == 1:
            return cls(Snapshot.parse(token))
        if len(parts) != 3 or not _NUMBERS.fullmatch(parts[2]):
            raise BadSyncToken()
        base = Snapshot.parse(parts[0]) if parts[0] else None
        first = Snapshot.parse(parts[1])
        position = [int(n) for n in parts[2].split(".")]
        if len(position) != 3 or position[0] not in (LISTS, TODOS, TOMBSTONES):
            raise BadSyncToken()
        if base is not None and not (base.xmin <= first.xmin and base.xmax <= first.xmax):
            raise BadSyncToken()
        if max(position) > _MAX or (position[0] == TOMBSTONES and base is None):
            raise BadSyncToken()
        return cls(base, first, *position)

    def token(self):
        base = self.base.text() if self.base else ""
        return f"{base}~{self.first.text()}~{self.phase}.{self.stamp}.{self.pk}"


def _snapshot():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return Snapshot.from_pg(cursor.fetchone()[0])


def current_token():
    """A token from which the next sync returns whatever changes after now (live updates start
    their streams from it)."""
    return _snapshot().text()


def changes_since(user, token=None):
    """One page of the feed for `user`: {"lists", "todos", "deleted_lists", "deleted_todos",
    "token", "more"}: every list and todo of theirs changed since `token` (None: all of them)
    in its latest state, the ids of those deleted, at most PAGE_SIZE objects in all. With
    `more`, call again with the page's token. BadSyncToken (400) for a token this server did not
    make; SyncTokenGone (410) for one older than the oldest tombstone kept."""
    at = _Pass.parse(token)
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if own_transaction:  # one snapshot for the page (in a caller's, later ones see more)
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        now = _snapshot()
        if at.base and at.base.xmax > now.xmax:
            raise SyncTokenGone()  # from another database (a restore, say): start again
        if at.base and _purged_since(at.base):
            raise SyncTokenGone()
        if at.first is None:  # the pass starts here
            at.first = now
        return _page(user, at)


def _purged_since(base):
    """Whether a purge may have taken a tombstone the token's snapshot did not see (only the
    newest purged transaction is kept: one of any age below it counts)."""
    purged = SyncPurge.objects.aggregate(up_to=Max("max_xid"))["up_to"]
    return purged is not None and purged >= base.xmin


def _page(user, at):
    found = []  # (phase, stamp, id, object), in feed order, PAGE_SIZE + 1 at most
    phases = (LISTS, TODOS, TOMBSTONES) if at.base else (LISTS, TODOS)
    for phase in phases:
        if phase < at.phase:
            continue
        after = (at.stamp, at.pk) if phase == at.phase else (at.base.xmin if at.base else 0, 0)
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
        page["token"] = at.first.text()
    page["more"] = more
    return page


def _new_in_pass(stamp, at):
    """Seen by the pass's first snapshot, and not by the token's."""
    condition = Q(Visible(stamp, at.first))
    if at.base:
        condition &= ~Q(Visible(stamp, at.base))
    return condition


def _lists(user, at, after, limit):
    """The lists changed, or whose open count may have: a todo of theirs written or deleted
    (a todo that moved away stamps the list it left). A user's lists are few: by id."""
    lists = (
        lists_with_open_counts(user)
        .filter(pk__gt=after[1])
        .filter(Visible(SyncStamp(), at.first))
        .order_by("pk")
    )
    if at.base:
        todos = (
            Todo.objects.for_owner(user)
            .alias(stamp=SyncStamp())
            .filter(stamp__gte=at.base.xmin)
            .filter(_new_in_pass(SyncStamp(), at))
        )
        tombstones = SyncTombstone.objects.filter(
            Q(user_id=user.pk, kind=SyncTombstone.TODO, xid__gte=at.base.xmin),
            _new_in_pass(F("xid"), at),
        )
        lists = lists.filter(
            ~Q(Visible(SyncStamp(), at.base))
            | Q(pk__in=todos.values("list_id"))
            | Q(pk__in=tombstones.values("list_id"))
        )
    return [(LISTS, 0, each.pk, each) for each in lists[:limit]]


def _todos(user, at, after, limit):
    todos = (
        Todo.objects.for_owner(user)
        .annotate(stamp=SyncStamp())
        .filter(RowAfter(SyncStamp(), F("id"), _xid(after[0]), Value(after[1])))
        .filter(stamp__lt=at.first.xmax)
        .filter(_new_in_pass(SyncStamp(), at))
        .order_by("stamp", "id")
    )
    return [(TODOS, each.stamp, each.pk, each) for each in todos[:limit]]


def _tombstones(user, at, after, limit):
    tombstones = (
        SyncTombstone.objects.filter(user_id=user.pk, xid__lt=at.first.xmax)
        .filter(RowAfter(F("xid"), F("id"), _xid(after[0]), Value(after[1])))
        .filter(_new_in_pass(F("xid"), at))
        # A todo that the pages' undo wrote back (its id again) is not deleted.
        .exclude(Exists(Todo.objects.filter(pk=OuterRef("object_id"))), kind=SyncTombstone.TODO)
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
