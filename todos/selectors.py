"""The API's reads, each one statement built from TodoQuerySet once per shape (see
todos.executor.cached) and run on the request's connection."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, Subquery, TextField
from rest_framework.authtoken.models import Token

from . import executor
from .executor import Param
from .models import OwnerDeleted, Todo, TodoList

# The field each list filter compares with.
FILTERED_FIELDS = {
    "completed": "completed",
    "priority": "priority",
    "due_before": "due_date",
    "due_after": "due_date",
}


async def aget_todo(*, owner, pk):
    """The owner's todo with this id, or None."""
    statement = executor.cached(
        ("todo", "get"),
        lambda: executor.select(
            Todo.objects.for_owner(Param.of(Todo, "owner"))
            .filter(pk=Param.of(Todo, "pk", "id"))
            .order_by()
        ),
    )
    todos = await executor.run(statement.bind(owner=owner.pk, pk=pk))
    return todos[0] if todos else None


async def alist_todos(*, owner, filters, paginator):
    """One page of the owner's todos (plus one more, if any follows), filtered and in the
    paginator's order; `filters` holds the list filters, None meaning 'any' (`q`: a search)."""
    if filters.get("q") is None:
        return await executor.run(list_statement(owner=owner, filters=filters, paginator=paginator))
    probe, search = search_statements(owner=owner, filters=filters, paginator=paginator)
    found = await executor.run(probe)
    return found if len(found) > paginator.page_size else await executor.run(search)


def list_todos(*, owner, filters, paginator):
    """`alist_todos` for the pages, on Django's connection."""
    if filters.get("q") is None:
        return executor.run_sync(list_statement(owner=owner, filters=filters, paginator=paginator))
    probe, search = search_statements(owner=owner, filters=filters, paginator=paginator)
    found = executor.run_sync(probe)
    return found if len(found) > paginator.page_size else executor.run_sync(search)


def search_query(q):
    """The tsquery text of a search: every word of `q` (split at white space; one with no
    letter or digit is left out) must start a word of the todo, ignoring case. Each is quoted,
    so that no character of it is an operator, and parsed by to_tsquery as the todo's text is
    parsed ("e-mail" is e-mail, e and mail), each part a prefix. Empty: no word to search."""
    words = [word for word in q.split() if any(c.isalnum() for c in word)]
    return " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in words)


# How many todos in the page's order a search reads first (see search_statements).
SEARCH_WINDOW = 1000
# The admin's search shows the newest this many matches of its filtered change list.
MATCHES_LIMIT = 200


def newest_matching(todos, q, limit=None):
    """The newest `limit` todos of the queryset `todos` (any filters: the admin's
    change list) whose words match `q`, found as the API's search finds a page: a probe of the
    newest 10 x `limit` todos, else the index fenced from the ordered scan (search_statements)."""
    limit = MATCHES_LIMIT if limit is None else limit
    words = search_query(q)
    todos = todos.select_related(None).order_by()
    newest = ("-created_at", "-id")
    window = executor.select(todos.order_by(*newest)[: 10 * limit])
    matching = Todo.objects.matching(words).order_by(*newest)[:limit]
    found = executor.run_sync(executor.select_from(matching, window))
    if len(found) < limit:
        every = executor.select(todos.matching(words))
        newest_of = Todo.objects.order_by(*newest)[:limit]
        found = executor.run_sync(executor.select_from(newest_of, every, fence=True))
    return found


# The field a cursor's key is compared with, per order.
KEY_FIELDS = {"newest": "created_at", "due": "due_date", "position": "position"}


class _Listing:
    """What the SQL of a list of todos depends on (its shape), and the values it binds."""

    def __init__(self, owner, filters, paginator):
        self.present = tuple(
            sorted(name for name in FILTERED_FIELDS if filters.get(name) is not None)
        )
        self.in_list = filters.get("list") is not None
        parent = filters.get("parent")
        self.parent_kind = None if parent is None else "none" if parent == "none" else "id"
        self.paginator = paginator
        self.shape = (self.present, self.in_list, self.parent_kind, paginator.shape)
        values = {name: filters[name] for name in self.present}
        if self.in_list:
            values["list"] = filters["list"]
        if self.parent_kind == "id":
            values["parent"] = parent
        if paginator.position:
            values["cursor_key"], values["cursor_pk"] = paginator.position
        if filters.get("q") is not None:
            values["q"] = search_query(filters["q"])
        self.values = {"owner": getattr(owner, "pk", owner), **values}

    def todos(self):
        """The filtered todos, with placeholders for the values."""
        todos = Todo.objects.for_owner(Param.of(Todo, "owner")).filtered(
            **{name: Param.of(Todo, name, FILTERED_FIELDS[name]) for name in self.present}
        )
        if self.in_list:
            # The list only if it is the owner's: another user's list id never has its todos
            # read (and filtered out one by one) by this statement.
            owned = TodoList.objects.filter(
                pk=Param.of(TodoList, "list", "id"), owner=Param.of(TodoList, "owner")
            ).order_by()
            todos = todos.filter(list=Subquery(owned.values("pk")))
        if self.parent_kind == "none":
            todos = todos.filter(parent__isnull=True)
        elif self.parent_kind == "id":
            todos = todos.filter(parent=Param.of(Todo, "parent"))
        return todos

    @property
    def position(self):
        return (
            Param.of(Todo, "cursor_key", KEY_FIELDS[self.paginator.order]),
            Param.of(Todo, "cursor_pk", "id"),
        )


def list_statement(*, owner, filters, paginator):
    """The statement behind `alist_todos` without a search, bound to its values."""
    listing = _Listing(owner, filters, paginator)

    def build():
        return executor.select(paginator.page_queryset(listing.todos(), listing.position))

    shape = ("todo", "list", *listing.shape, paginator.page_size)
    return executor.cached(shape, build).bind(**listing.values)


def search_statements(*, owner, filters, paginator):
    """The two statements of a search page, bound: the probe, then the search if the probe
    did not fill the page. Either reads the page in one plan that PostgreSQL cannot turn into
    a slow one, whatever it guesses of how common the words are (docs/search.md):

    - the probe reads the first SEARCH_WINDOW todos of the page's list as a plain list page
      does (one index range, in order) and keeps those that match: a page, for any word that
      is common among them;
    - the search finds every todo of the owner that matches through idx_todos_search (fenced
      from the ordered scan, which for a rare word would read all the owner's todos) and
      sorts them: quick for a word too rare to fill a page in the probe."""
    listing = _Listing(owner, filters, paginator)
    words = Param("q", TextField())
    size = paginator.page_size + 1

    def build_probe():
        window = paginator.page_queryset(listing.todos(), listing.position, SEARCH_WINDOW)
        matching = paginator.in_order(Todo.objects.matching(words))[:size]
        return executor.select_from(matching, executor.select(window))

    def build_search():
        found = paginator.past_cursor(listing.todos().matching(words), listing.position)
        page = paginator.in_order(Todo.objects.all())[:size]
        return executor.select_from(page, executor.select(found.order_by()), fence=True)

    shape = (*listing.shape, paginator.page_size, SEARCH_WINDOW)
    probe = executor.cached(("todo", "search-probe", *shape), build_probe)
    search = executor.cached(("todo", "search", *shape), build_search)
    return probe.bind(**listing.values), search.bind(**listing.values)


async def auser_for_token(key):
    """The user whose API token this is, or None."""
    statement = executor.cached(
        ("user", "by-token"),
        lambda: executor.select(
            get_user_model().objects.filter(auth_token__key=Param.of(Token, "key"))
        ),
    )
    users = await executor.run(statement.bind(key=key))
    return users[0] if users else None


async def aget_todo_list(*, owner, pk):
    """The owner's list with this id and its open count, or None."""
    return await executor.on_django_connection(lists_with_open_counts(owner).filter(pk=pk).afirst())


async def alist_todo_lists(*, owner):
    """The owner's lists, Inbox first, then by name, each with its open count."""
    return await executor.on_django_connection(_all(lists_with_open_counts(owner).in_order()))


async def _all(queryset):
    return [item async for item in queryset]


def lists_with_open_counts(owner):
    """The owner's lists, each with its open count (what the API shows of a list)."""
    return TodoList.objects.for_owner(owner).annotate(
        open_count=Count("todos", filter=Q(todos__completed=False))
    )


# owner id -> Inbox id. A user's Inbox is made with the user and can never be deleted, so an
# answer never goes stale; bounded only to bound the memory.
_inbox_ids = {}


def _inbox_statement():
    return executor.cached(
        ("todo_list", "inbox"),
        lambda: executor.select(
            TodoList.objects.filter(owner=Param.of(TodoList, "owner"), is_inbox=True).order_by()
        ),
    )


def _remember_inbox(owner_pk, found):
    if not found:  # every user has an Inbox from the start: this one was deleted meanwhile
        raise OwnerDeleted()
    if len(_inbox_ids) > 100_000:
        _inbox_ids.clear()
    _inbox_ids[owner_pk] = found[0].pk
    return found[0].pk


def forget_inbox(owner_pk):
    _inbox_ids.pop(owner_pk, None)


def inbox_id(owner):
    """The id of the owner's Inbox."""
    pk = getattr(owner, "pk", owner)
    if pk in _inbox_ids:
        return _inbox_ids[pk]
    return _remember_inbox(pk, executor.run_sync(_inbox_statement().bind(owner=pk)))


async def ainbox_id(owner):
    pk = getattr(owner, "pk", owner)
    if pk in _inbox_ids:
        return _inbox_ids[pk]
    return _remember_inbox(pk, await executor.run(_inbox_statement().bind(owner=pk)))


# The pages' reads (synchronous: the pages are plain Django views). `today` is the user's date,
# in their time zone (todos.time_zones).

LIST_PAGE_SIZE = 200  # top-level todos shown on a list's page; a longer list shows its first 200
COMPLETED_SHOWN = 20  # the most recently done, in a list's Completed section
VIEW_SIZE = 200  # todos shown on Today and Upcoming
UPCOMING_DAYS = 7
LIST_ORDERS = {
    "position": ("parent_id", "position", "id"),
    "due": (F("due_date").asc(nulls_last=True), "position", "id"),
    "newest": ("-created_at", "-id"),
}


def lists_with_counts(owner, today):
    """The owner's lists for the sidebar, Inbox first, each with its open and overdue counts."""
    open_ = Q(todos__completed=False)
    return list(
        lists_with_open_counts(owner)
        .annotate(overdue_count=Count("todos", filter=open_ & Q(todos__due_date__lt=today)))
        .in_order()
    )


def view_counts(owner, today):
    """How many open todos Today (due today or overdue) and Upcoming (the next 7 days) hold."""
    until = today + dt.timedelta(days=UPCOMING_DAYS)
    return (
        Todo.objects.for_owner(owner)
        .open()
        .aggregate(
            today=Count("pk", filter=Q(due_date__lte=today)),
            upcoming=Count("pk", filter=Q(due_date__gte=today, due_date__lt=until)),
        )
    )


def list_page_todos(todo_list, order="position"):
    """A list's open top-level todos (the first LIST_PAGE_SIZE, in `order`), its last done
    top-level todos (COMPLETED_SHOWN, and one more if there are more, for the Completed section) and the subtasks of both by parent id
    (each group in manual order)."""
    top = Todo.objects.filter(list=todo_list, parent__isnull=True)
    open_ = list(top.open().order_by(*LIST_ORDERS[order])[:LIST_PAGE_SIZE])
    done = list(
        top.done().order_by(F("completed_at").desc(nulls_last=True), "-id")[:LIST_PAGE_SIZE]
    )
    subtasks = {}
    parents = [t.pk for t in open_ + done]
    for subtask in Todo.objects.filter(parent__in=parents).in_position_order():
        subtasks.setdefault(subtask.parent_id, []).append(subtask)
    return open_, done, subtasks


def today_todos(owner, today):
    """Open todos due today or before, across lists: the most overdue first, then by priority."""
    return list(
        Todo.objects.for_owner(owner)
        .open()
        .filter(due_date__lte=today)
        .select_related("list")
        .order_by("due_date", "-priority", "position", "id")[:VIEW_SIZE]
    )


def upcoming_days(owner, today):
    """The next UPCOMING_DAYS days from today, each with its open todos (by priority)."""
    days = [today + dt.timedelta(days=n) for n in range(UPCOMING_DAYS)]
    todos = (
        Todo.objects.for_owner(owner)
        .open()
        .filter(due_date__gte=days[0], due_date__lte=days[-1])
        .select_related("list")
        .order_by("due_date", "-priority", "position", "id")[:VIEW_SIZE]
    )
    by_day = {day: [] for day in days}
    for todo in todos:
        by_day[todo.due_date].append(todo)
    return list(by_day.items())


def open_subtask_ids(owner, pk):
    """The ids of the todo's open subtasks (what completing it closes too)."""
    return list(
        Todo.objects.for_owner(owner)
        .filter(parent_id=pk, completed=False)
        .values_list("pk", flat=True)
    )


def place_of(owner, pk):
    """Where the owner's todo is, as a move names it: {"list", "parent", "after"} (after: the
    sibling just before it, None when it is first); None when there is no such todo."""
    todo = Todo.objects.for_owner(owner).filter(pk=pk).first()
    if todo is None:
        return None
    # (parent_id=None is IS NULL: the top level.)
    siblings = Todo.objects.filter(list_id=todo.list_id, parent_id=todo.parent_id).exclude(pk=pk)
    before = (
        siblings.filter(Q(position__lt=todo.position) | Q(position=todo.position, pk__lt=pk))
        .order_by("-position", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    return {"list": todo.list_id, "parent": todo.parent_id, "after": before}


def rows_of_todo_and_subtasks(owner, pk):
    """The todo and its subtasks as plain values (JSON-ready: dates as ISO text), parent first:
    what an undo of its delete writes back."""
    rows = (
        Todo.objects.for_owner(owner)
        .filter(Q(pk=pk) | Q(parent_id=pk))
        .order_by(F("parent_id").asc(nulls_first=True), "id")
    )
    return [
        {
            name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in row.items()
        }
        for row in rows.values(*RESTORED_FIELDS)
    ]


RESTORED_FIELDS = (
    "id",
    "owner_id",
    "list_id",
    "parent_id",
    "position",
    "title",
    "description",
    "priority",
    "due_date",
    "completed",
    "completed_at",
    "created_at",
    "updated_at",
)
