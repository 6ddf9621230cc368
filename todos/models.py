import datetime as dt

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from . import positions

EARLIEST_DUE_DATE = dt.date(1900, 1, 1)
LATEST_DUE_DATE = dt.date(2200, 12, 31)


def validate_due_date(value):
    """A due date a person could mean: 1900-2200 (the API and the pages both check it)."""
    if value is not None and not EARLIEST_DUE_DATE <= value <= LATEST_DUE_DATE:
        raise ValidationError("Due dates go from 1900 to 2200.", code="out_of_range")


class OwnerDeleted(Exception):
    """The user a write is for no longer exists: deleted after the request authenticated (a
    worker remembers a token's user for a few seconds). The API answers 401, the pages sign the
    browser out."""


class TodoNotFound(Http404):
    """The owner has no todo with this id (another user's todo does not exist for them). The API
    answers it as DRF's 404 with this message, the pages as Django's 404."""

    def __init__(self):
        super().__init__("No todo with this id.")


class TodoListNotFound(Http404):
    def __init__(self):
        super().__init__("No list with this id.")


INBOX = "Inbox"
# Why a todo's list or parent sent with another value in an edit is refused.
MOVE_HINT = "Set on create; change it with POST /api/todo/<id>/move."


class TodoListQuerySet(models.QuerySet):
    def for_owner(self, user):
        return self.filter(owner=user)

    def in_order(self):
        return self.order_by("-is_inbox", "name", "id")


class TodoList(models.Model):
    """A user's list of todos; every user has exactly one Inbox (made with the user,
    todos.services.create_inbox), which can be renamed but not deleted."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="todo_lists",
        db_index=False,
    )
    name = models.CharField(max_length=100)
    is_inbox = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TodoListQuerySet.as_manager()

    class Meta:
        db_table = "todo_lists"
        ordering = ["-is_inbox", "name", "id"]
        constraints = [
            # Leads with owner_id: it is also the index of a user's lists (and of the FK).
            models.UniqueConstraint("owner", Lower("name"), name="todo_lists_owner_name_ci"),
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(is_inbox=True), name="todo_lists_one_inbox"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        if self.is_inbox:
            return reverse("todos:list")  # the Inbox is `/`
        return reverse("todos:todo-list", args=[self.pk])


class Priority(models.IntegerChoices):
    """Stored as a small integer so it sorts; spoken as its name in the API and pages."""

    LOW = 1, "low"
    MEDIUM = 2, "medium"
    HIGH = 3, "high"

    @classmethod
    def from_name(cls, name):
        return cls[name.upper()]


# A description is searched by its first this many characters: a tsvector holds at most 1 MB,
# which a description of a few MB of distinct words would pass (and fail its INSERT).
SEARCHED_DESCRIPTION_CHARS = 100_000


class SearchDocument(models.Func):
    """The words a todo is found by: its title and (the start of) its description, as the
    `simple` text search configuration parses them (lower case, no stemming, no stop words).
    idx_todos_search indexes this very expression, so the database keeps it for every row,
    however the row was written; the SQL has no parameters, so every plan matches the index."""

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = SearchVectorField()

    def __init__(self):
        description = models.Func(
            models.F("description"), template=f"left(%(expressions)s, {SEARCHED_DESCRIPTION_CHARS})"
        )
        super().__init__(models.F("title"), description)


class Matches(models.Func):
    """`document @@ to_tsquery('simple', query)`: a boolean to filter on."""

    template = "%(expressions)s"
    arg_joiner = " @@ to_tsquery('simple'::regconfig, "
    output_field = models.BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, **extra_context)
        return f"({sql}))", params


class TodoQuerySet(models.QuerySet):
    """Every read of todos starts here, in the API, the pages and the admin."""

    def for_owner(self, user):
        return self.filter(owner=user)

    def open(self):
        return self.filter(completed=False)

    def done(self):
        return self.filter(completed=True)

    def in_position_order(self):
        """Siblings in manual order (parent_id first: the index's order, see pagination.py)."""
        return self.order_by("parent_id", "position", "id")

    def bulk_create(self, objs, *args, **kwargs):
        """Django's, with each todo that has no list filed first into its owner's Inbox."""
        objs = list(objs)
        inboxes = {}  # owner -> Inbox id: one query per owner, not per todo
        for rank, todo in enumerate(objs):
            to_the_inbox = todo.list_id is None
            if to_the_inbox and todo.owner_id in inboxes:
                todo.list_id = inboxes[todo.owner_id]
            todo.fill_place(rank)
            if to_the_inbox:
                inboxes[todo.owner_id] = todo.list_id
        return super().bulk_create(objs, *args, **kwargs)

    def matching(self, query):
        """The todos whose title or description has a word starting with each word of the
        tsquery text `query` (todos.selectors.search_query writes it; a value or a
        placeholder)."""
        if not hasattr(query, "resolve_expression"):
            query = models.Value(query)
        return self.filter(Matches(SearchDocument(), query))

    def newest_first(self):
        return self.order_by("-created_at", "-id")

    def filtered(self, *, completed=None, priority=None, due_before=None, due_after=None):
        """Apply the list filters that the API and the pages share; None means 'any'."""
        todos = self
        if completed is not None:
            todos = todos.filter(completed=completed)
        if priority is not None:
            todos = todos.filter(priority=priority)
        if due_before is not None:
            todos = todos.filter(due_date__lt=due_before)
        if due_after is not None:
            todos = todos.filter(due_date__gt=due_after)
        return todos


class Todo(models.Model):
    # No index of its own: idx_todos_owner_created leads with owner_id and serves its lookups.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="todos", db_index=False
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    priority = models.PositiveSmallIntegerField(choices=Priority, default=Priority.MEDIUM)
    due_date = models.DateField(null=True, blank=True)
    completed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # DO_NOTHING for Django: the database deletes a list's todos and a parent's subtasks itself
    # (ON DELETE CASCADE, migration 0006), so that each delete is one statement.
    list = models.ForeignKey(
        TodoList, on_delete=models.DO_NOTHING, related_name="todos", db_index=False
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="subtasks",
        db_index=False,
    )
    # Compared byte by byte (todos.positions): the "C" collation, not the database's locale.
    position = models.TextField(db_collation="C")

    objects = TodoQuerySet.as_manager()

    class Meta:
        db_table = "todos"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["completed"], name="idx_todos_completed"),
            models.Index(fields=["priority"], name="idx_todos_priority"),
            models.Index(fields=["created_at"], name="idx_todos_created_at"),
            models.Index(fields=["completed", "priority"], name="idx_todos_completed_priority"),
            # Earned by the API's own list queries at a million rows (docs/benchmarks.md): every
            # list, filtered or not, reads its page in index order and stops at the page's end.
            models.Index(fields=["owner", "-created_at", "-id"], name="idx_todos_owner_created"),
            models.Index(
                fields=["owner", "completed", "priority", "-created_at", "-id"],
                name="idx_todos_owner_filters",
            ),
            # One of the two filters alone: without an index in that order, PostgreSQL may walk
            # idx_todos_created_at through everyone's newer todos to find a big user's page.
            models.Index(
                fields=["owner", "completed", "-created_at", "-id"],
                name="idx_todos_owner_completed",
            ),
            models.Index(
                fields=["owner", "priority", "-created_at", "-id"], name="idx_todos_owner_priority"
            ),
            # Earned at a million rows (docs/lists.md): a page in manual order is one range scan
            # of it, however deep; a list's delete finds its todos through it.
            models.Index(
                fields=["list", "parent", "position", "id"], name="idx_todos_list_position"
            ),
            # A list's todos newest first (list=<id>, the default order): without it, a page
            # sorts the whole list (34-77 ms for 100,000 todos; docs/lists.md).
            models.Index(fields=["list", "-created_at", "-id"], name="idx_todos_list_created"),
            # A parent's subtasks (complete them, delete them, parent=<id>).
            models.Index(
                fields=["parent"],
                name="idx_todos_parent",
                condition=models.Q(parent__isnull=False),
            ),
            # Search (?q=): which rows have a word starting so (docs/search.md).
            GinIndex(SearchDocument(), name="idx_todos_search"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.fill_place()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("todos:edit", args=[self.pk])

    def fill_place(self, rank=0):
        """A todo made without a list goes into its owner's Inbox; without a position, first.
        (The API's writes find the Inbox through selectors.inbox_id, which remembers it.)"""
        if self.list_id is None:
            inbox = TodoList.objects.filter(owner_id=self.owner_id, is_inbox=True)
            self.list_id = inbox.values_list("pk", flat=True).first()
            if self.list_id is None:
                raise OwnerDeleted()
        if not self.position:
            self.position = positions.newest(rank=rank)

    @property
    def is_overdue(self):
        return (
            not self.completed
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )


class IdempotencyKey(models.Model):
    """A claimed Idempotency-Key and the response it was first answered with
    (todos.api.idempotency)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.TextField(default="")  # the JSON as sent, its keys in their order
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "idempotency_keys"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_keys_user_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idx_idempotency_created_at")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class UserSettings(models.Model):
    """What a person chose for their pages: the time zone that "today", "overdue" and every
    shown time use (todos.time_zones), and the locale quick add reads dates in (todos.locales).
    A user without a row has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="page_settings",
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    locale = models.CharField(max_length=35, default="en")

    class Meta:
        db_table = "user_settings"
        verbose_name_plural = "user settings"

    def __str__(self):
        return f"{self.user_id}: {self.time_zone}"


class TransactionIdField(models.Field):
    """A PostgreSQL xid8: a transaction id, 64 bits, never wrapping around; an int in Python."""

    def db_type(self, connection):
        return "xid8"

    def from_db_value(self, value, expression, connection):
        return None if value is None else int(value)

    def get_prep_value(self, value):
        return None if value is None else str(value)


class SyncTombstone(models.Model):
    """A deleted todo or list, for the change feed (todos.sync). Written by the database's own
    triggers (migration 0012) on every delete, cascades included; purged after
    SYNC_TOMBSTONE_DAYS by `manage.py purge_sync_tombstones`."""

    TODO, LIST = 1, 2

    user_id = models.BigIntegerField()  # no key: a deleted user's tombstones wait for the purge
    kind = models.PositiveSmallIntegerField(choices=[(TODO, "todo"), (LIST, "list")])
    object_id = models.BigIntegerField()
    list_id = models.BigIntegerField(null=True)  # a todo's list, whose open count changed
    xid = TransactionIdField()
    deleted_at = models.DateTimeField()

    class Meta:
        db_table = "sync_tombstones"
        indexes = [
            models.Index(fields=["deleted_at"], name="idx_sync_tombstones_deleted"),
            models.Index(fields=["user_id", "xid", "id"], name="idx_sync_tombstones_feed"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.object_id}"


class SyncPurge(models.Model):
    """One run of the tombstone purge that deleted something: a sync token from before
    `max_xid` may have missed a delete (410 Gone)."""

    max_xid = TransactionIdField()
    purged_at = models.DateTimeField(default=timezone.now)
    deleted = models.BigIntegerField()

    class Meta:
        db_table = "sync_purges"

    def __str__(self):
        return f"{self.purged_at}: {self.deleted} below {self.max_xid}"
