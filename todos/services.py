"""Every write to todos goes through these functions; the API, pages and admin share them.

Each write is one statement. The sync functions run on Django's connection; their async twins
run through todos.executor, on the API fast lane's pool when the request has one.
"""

import psycopg
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from . import executor, positions, selectors
from .executor import Param
from .models import INBOX, MOVE_HINT, OwnerDeleted, Todo, TodoList, TodoListNotFound, TodoNotFound

EDITABLE_FIELDS = frozenset(("title", "description", "priority", "due_date", "completed"))
NO_LIST = "No list with this id."
NO_TODO = "No todo with this id."


def _new_todo(owner, fields, now, rank=0):
    """`fields` may hold list_id (the Inbox when absent) and parent_id, already checked."""
    todo = Todo(
        owner_id=_pk(owner),
        created_at=now,
        updated_at=now,
        position=positions.newest(now.timestamp(), rank),
        **fields,
    )
    if todo.completed:
        todo.completed_at = now
    return todo


def _placed(fields):
    return fields.get("list_id") is not None or fields.get("parent_id") is not None


def create_todo(*, owner, **fields):
    """One new todo, first in its list (the Inbox unless `list_id` says otherwise), or first
    among the subtasks of `parent_id`. Raises ValidationError naming a list or parent that is
    not the owner's (or a parent that is a subtask itself)."""
    inbox = selectors.inbox_id(owner)
    if _placed(fields):
        [todo] = _create_placed(owner, [fields], inbox, errors_by_item=False)
        return todo
    fields["list_id"] = inbox
    return executor.run_sync(executor.insert(_new_todo(owner, fields, timezone.now())))


async def acreate_todo(*, owner, **fields):
    if _placed(fields):
        [todo] = await acreate_todos(owner=owner, items=[fields], errors_by_item=False)
        return todo
    fields["list_id"] = await selectors.ainbox_id(owner)
    return await executor.run(executor.insert(_new_todo(owner, fields, timezone.now())))


async def acreate_todos(*, owner, items, errors_by_item=True):
    """Insert many todos in one INSERT inside one transaction; returns them in input order.
    All or nothing: a list or parent that is not the owner's fails the whole batch, naming the
    item."""
    if not any(_placed(item) for item in items):
        inbox = await selectors.ainbox_id(owner)
        now = timezone.now()
        todos = [
            _new_todo(owner, {**item, "list_id": inbox}, now, rank)
            for rank, item in enumerate(items)
        ]
        return await executor.on_django_connection(Todo.objects.abulk_create(todos))
    inbox = await selectors.ainbox_id(owner)
    create = sync_to_async(_create_placed)
    return await executor.on_django_connection(create(owner, items, inbox, errors_by_item))


def _create_placed(owner, items, inbox, errors_by_item):
    owner_pk = _pk(owner)
    with transaction.atomic():
        items = [dict(item) for item in items]
        errors = _place(owner_pk, items, inbox)
        if errors:
            raise ValidationError(errors if errors_by_item else errors[0])
        now = timezone.now()
        return Todo.objects.bulk_create(
            [_new_todo(owner, item, now, rank) for rank, item in enumerate(items)]
        )


def _place(owner_pk, items, inbox):
    """Check each item's list and parent and fill in its list (the parent's, else the Inbox);
    the errors by item index. The parents stay locked until the transaction ends, so that none
    becomes a subtask (a move) while it gets subtasks here."""
    list_ids = {item["list_id"] for item in items if item.get("list_id") is not None}
    parent_ids = {item["parent_id"] for item in items if item.get("parent_id") is not None}
    lists = set(
        TodoList.objects.filter(owner_id=owner_pk, pk__in=list_ids).values_list("pk", flat=True)
    )
    parents = {
        todo.pk: todo
        for todo in Todo.objects.filter(owner_id=owner_pk, pk__in=parent_ids)
        .order_by("pk")
        .select_for_update(no_key=True)
    }
    errors = {}
    for index, item in enumerate(items):
        problems = {}
        list_id, parent_id = item.get("list_id"), item.get("parent_id")
        if list_id is not None and list_id not in lists:
            problems["list"] = [NO_LIST]
        if parent_id is not None:
            parent = parents.get(parent_id)
            if parent is None:
                problems["parent"] = [NO_TODO]
            elif parent.parent_id is not None:
                problems["parent"] = ["A subtask cannot have subtasks."]
            elif list_id is not None and parent.list_id != list_id:
                problems["parent"] = ["This todo is in another list."]
            else:
                item["list_id"] = parent.list_id
        if item.get("list_id") is None:
            item["list_id"] = inbox
        if problems:
            errors[index] = problems
    return errors


def _update(owner, pk, fields):
    """One UPDATE ... RETURNING for the owner's todo. Completing stamps completed_at (unless it
    was done already), reopening clears it. Completing a todo completes its open subtasks in the
    same statement: only `completed` (and the stamps) change on them."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    completed = fields.get("completed")

    def build():
        now = Param.of(Todo, "now", "updated_at")
        the_todo = Q(pk=Param.of(Todo, "pk", "id"))
        values = {name: Param.of(Todo, name) for name in fields}
        values["updated_at"] = now
        todos = Todo.objects.for_owner(Param.of(Todo, "owner"))
        if completed is True:
            values["completed_at"] = Case(
                When(completed=False, then=now), default=F("completed_at")
            )
            for name in set(fields) - {"completed"}:  # the todo's own, not its subtasks'
                values[name] = Case(
                    When(the_todo, then=values[name]),
                    default=F(name),
                    output_field=Todo._meta.get_field(name),
                )
            subtasks = Q(parent=Param.of(Todo, "pk", "parent"), completed=False)
            return executor.update_returning(todos.filter(the_todo | subtasks), values)
        if completed is False:
            values["completed_at"] = None
        return executor.update_returning(todos.filter(the_todo), values)

    statement = executor.cached(("todo", "update", tuple(sorted(fields)), completed), build)
    return statement.bind(owner=_pk(owner), pk=pk, now=timezone.now(), **fields)


def _the_todo(rows, pk):
    return next((todo for todo in rows if todo.pk == pk), None)


def update_todo(*, owner, pk, **fields):
    """The updated todo, or None when the owner has no todo with this id."""
    return _the_todo(executor.run_sync(_update(owner, pk, fields)), pk)


async def aupdate_todo(*, owner, pk, **fields):
    return _the_todo(await executor.run(_update(owner, pk, fields)), pk)


def _delete(owner, pk):
    statement = executor.cached(
        ("todo", "delete"),
        lambda: executor.delete(
            Todo.objects.for_owner(Param.of(Todo, "owner")).filter(pk=Param.of(Todo, "pk", "id"))
        ),
    )
    return statement.bind(owner=_pk(owner), pk=pk)


def delete_todo(*, owner, pk):
    """Delete one of the owner's todos, and with it its subtasks (the database's cascade);
    False when there was none."""
    return executor.run_sync(_delete(owner, pk)) > 0


async def adelete_todo(*, owner, pk):
    return await executor.run(_delete(owner, pk)) > 0


def _pk(user_or_pk):
    return getattr(user_or_pk, "pk", user_or_pk)


def set_completed(*, todos, completed):
    """Mark a queryset of todos done or not done in one UPDATE; returns how many changed."""
    now = timezone.now()
    if completed:  # and their open subtasks, as a PATCH does
        todos = Todo.objects.filter(Q(pk__in=todos.values("pk")) | Q(parent__in=todos.values("pk")))
    return todos.exclude(completed=completed).update(
        completed=completed,
        completed_at=now if completed else None,
        updated_at=now,
    )


def restore_todos(*, owner, rows):
    """Write back the owner's todos as they were before a delete (the pages' undo): their ids,
    places and stamps, as selectors.rows_of_todo_and_subtasks read them. Raises
    ValidationError when their list is gone meanwhile."""
    owner_pk = _pk(owner)
    todos = [Todo(**row) for row in rows if row["owner_id"] == owner_pk]
    with transaction.atomic():
        lists = {todo.list_id for todo in todos}
        if TodoList.objects.filter(owner_id=owner_pk, pk__in=lists).count() != len(lists):
            raise ValidationError({"list": ["Its list was deleted meanwhile."]})
        Todo.objects.bulk_create(todos)
    return todos


def delete_todos(*, todos):
    """Delete a queryset of todos (the admin's bulk delete); returns how many were deleted."""
    deleted, _ = todos.delete()
    return deleted


def refers_to_a_deleted_user(exc):
    """Whether a write failed on its reference to a user: the caller was deleted after the
    request authenticated (a worker remembers a token's user for API_TOKEN_CACHE_SECONDS; a
    page read its session's user first). Django names every foreign key constraint
    `..._fk_<table>_<column>` of the table it refers to."""
    if isinstance(exc, OwnerDeleted):
        return True
    error = exc.__cause__ if isinstance(exc, IntegrityError) else exc
    if not isinstance(error, psycopg.errors.ForeignKeyViolation):
        return False
    user = get_user_model()._meta
    return (error.diag.constraint_name or "").endswith(f"_fk_{user.db_table}_{user.pk.column}")


def create_inbox(*, owner):
    """The user's Inbox, made once with the user (todos.signals); the migration made the ones of
    users who existed before lists."""
    return TodoList.objects.create(owner_id=_pk(owner), name=INBOX, is_inbox=True)


def _move(owner, pk, list_id, parent_id, position):
    """One UPDATE of the moved todo and its subtasks: they go to its list; only the todo itself
    gets its parent and position."""

    def build():
        the_todo = Q(pk=Param.of(Todo, "pk", "id"))
        values = {
            "list": Param.of(Todo, "list"),
            "parent": Case(
                When(the_todo, then=Param.of(Todo, "parent")),
                default=F("parent"),
                output_field=Todo._meta.get_field("parent"),
            ),
            "position": Case(
                When(the_todo, then=Param.of(Todo, "position")), default=F("position")
            ),
            "updated_at": Param.of(Todo, "now", "updated_at"),
        }
        todos = Todo.objects.for_owner(Param.of(Todo, "owner")).filter(
            the_todo | Q(parent=Param.of(Todo, "pk", "parent"))
        )
        return executor.update_returning(todos, values)

    statement = executor.cached(("todo", "move"), build)
    return statement.bind(
        owner=_pk(owner),
        pk=pk,
        list=list_id,
        parent=parent_id,
        position=position,
        now=timezone.now(),
    )


def move_todo(*, owner, pk, after=None, parent=None, **target):
    """Put the owner's todo after the sibling `after` (None: first) among the subtasks of
    `parent` (None: at the top) of `target["list"]` (default: its list, or the parent's); its
    subtasks go with it. Writes the moved rows only. Raises TodoNotFound, or ValidationError
    naming the field that does not fit."""
    owner_pk = _pk(owner)
    with transaction.atomic():
        # Locked in id order (no deadlock between two moves of the same two todos): a parent
        # cannot itself move under another todo while it gets a subtask here.
        locked = {
            todo.pk: todo
            for todo in Todo.objects.filter(owner_id=owner_pk, pk__in=[pk, parent])
            .order_by("pk")
            .select_for_update()
        }
        todo = locked.get(pk)
        if todo is None:
            raise TodoNotFound()
        list_id = target.get("list")
        errors = {}
        if (
            list_id is not None
            and not TodoList.objects.filter(owner_id=owner_pk, pk=list_id).exists()
        ):
            errors["list"] = [NO_LIST]
        if parent is not None:
            parent_todo = locked.get(parent)
            if parent_todo is None or parent == pk:
                errors["parent"] = [
                    NO_TODO if parent_todo is None else "A todo cannot be its own parent."
                ]
            elif parent_todo.parent_id is not None:
                errors["parent"] = ["A subtask cannot have subtasks."]
            elif list_id is not None and parent_todo.list_id != list_id:
                errors["parent"] = ["This todo is in another list."]
            elif Todo.objects.filter(parent_id=pk).exists():
                errors["parent"] = ["A todo with subtasks cannot become a subtask."]
            else:
                list_id = parent_todo.list_id
        if list_id is None:
            list_id = todo.list_id
        siblings = Todo.objects.filter(list_id=list_id).exclude(pk=pk)
        if parent is None:
            siblings = siblings.filter(parent__isnull=True)
        else:
            siblings = siblings.filter(parent_id=parent)
        before = None
        if after is not None:
            before = siblings.filter(owner_id=owner_pk, pk=after).first()
            if before is None:
                errors["after"] = ["No todo with this id in the place moved to."]
        if errors:
            raise ValidationError(errors)
        position = _position_after(siblings.in_position_order(), before)
        if not positions.is_valid(position):
            raise ValidationError(
                {"after": ["Too many moves into this place: move a neighbour first."]}
            )
        return _the_todo(executor.run_sync(_move(owner, pk, list_id, parent, position)), pk)


def _position_after(siblings, before):
    """A new position after `before` (None: first) and before the sibling that follows it."""
    if before is None:
        first = siblings.first()
        return positions.between(None, first.position if first else None)
    following = siblings.filter(
        Q(position__gt=before.position) | Q(position=before.position, pk__gt=before.pk),
        position__gte=before.position,
    ).first()
    upper = following.position if following else None
    if upper is not None and upper <= before.position:
        upper = None  # the two share a position (a chance of one in millions): after both
    return positions.between(before.position, upper)


async def amove_todo(*, owner, pk, **place):
    move = sync_to_async(move_todo)
    return await executor.on_django_connection(move(owner=owner, pk=pk, **place))


DUPLICATE_NAME = "You already have a list with this name."


def _named(owner_pk, name, pk=None):
    taken = TodoList.objects.filter(owner_id=owner_pk, name__iexact=name).exclude(pk=pk)
    if taken.exists():
        raise ValidationError({"name": [DUPLICATE_NAME]})


def create_list(*, owner, name):
    owner_pk = _pk(owner)
    _named(owner_pk, name)
    try:
        with transaction.atomic():
            return TodoList.objects.create(owner_id=owner_pk, name=name)
    except IntegrityError:  # the same name, created meanwhile
        raise ValidationError({"name": [DUPLICATE_NAME]}) from None


def rename_list(*, owner, pk, name):
    owner_pk = _pk(owner)
    _named(owner_pk, name, pk)
    try:
        with transaction.atomic():
            changed = TodoList.objects.filter(owner_id=owner_pk, pk=pk).update(
                name=name, updated_at=timezone.now()
            )
    except IntegrityError:
        raise ValidationError({"name": [DUPLICATE_NAME]}) from None
    if not changed:
        raise TodoListNotFound()


class InboxNotDeletable(Exception):
    pass


def delete_list(*, owner, pk):
    """Delete one of the owner's lists and its todos (the database's cascade). The Inbox cannot
    be deleted: InboxNotDeletable."""
    deleted, _ = TodoList.objects.filter(owner_id=_pk(owner), pk=pk, is_inbox=False).delete()
    if not deleted:
        if TodoList.objects.filter(owner_id=_pk(owner), pk=pk).exists():
            raise InboxNotDeletable()
        raise TodoListNotFound()


acreate_list = sync_to_async(create_list)
arename_list = sync_to_async(rename_list)
adelete_list = sync_to_async(delete_list)


# The fields a batch edit can set and their arrays' types, in the order of the statement's
# columns (due_date has a flag of its own: null is a value it can be set to).
BATCH_ARRAYS = {
    "title": "text",
    "description": "text",
    "priority": "smallint",
    "due_date": "date",
    "completed": "boolean",
}


def _batch_update_sql():
    """One UPDATE of the owner's todos from a list of rows (one array per column, unnested):
    each row sets the fields it gives and keeps the others; completing a todo completes its
    open subtasks (those not in the batch themselves) in the same statement. The ORM has no
    UPDATE ... FROM, and a CASE per field and row (its bulk_update) grows with the batch."""
    t = Todo._meta.db_table
    arrays = ", ".join(f"%s::{kind}[]" for kind in BATCH_ARRAYS.values())
    names = ", ".join(BATCH_ARRAYS)
    keep = lambda name: f"{name} = COALESCE(items.{name}, {t}.{name})"  # noqa: E731
    return f"""
        WITH given AS (
            SELECT * FROM unnest(%s::bigint[], %s::boolean[], {arrays})
                AS given(id, due_given, {names})
        ), items AS (
            SELECT id, due_given, {names} FROM given
            UNION ALL
            SELECT subtask.id, false, NULL, NULL, NULL, NULL, true
            FROM {t} subtask JOIN given parent ON subtask.parent_id = parent.id
            WHERE parent.completed AND NOT subtask.completed AND subtask.owner_id = %s
                AND subtask.id <> ALL(%s::bigint[])
        )
        UPDATE {t} SET
            {keep("title")}, {keep("description")}, {keep("priority")},
            due_date = CASE WHEN items.due_given THEN items.due_date ELSE {t}.due_date END,
            {keep("completed")},
            completed_at = CASE
                WHEN items.completed AND NOT {t}.completed THEN %s
                WHEN NOT items.completed THEN NULL
                ELSE {t}.completed_at END,
            updated_at = %s
        FROM items
        WHERE {t}.id = items.id AND {t}.owner_id = %s"""


_BATCH_UPDATE_SQL = None


def _batch_update(owner, items):
    global _BATCH_UPDATE_SQL
    if _BATCH_UPDATE_SQL is None:
        _BATCH_UPDATE_SQL = _batch_update_sql()
    owner_pk, now = _pk(owner), timezone.now()
    ids = [item["id"] for item in items]
    columns = {name: [item.get(name) for item in items] for name in BATCH_ARRAYS}
    columns["priority"] = [None if p is None else int(p) for p in columns["priority"]]
    due_given = ["due_date" in item for item in items]
    params = [ids, due_given, *columns.values(), owner_pk, ids, now, now, owner_pk]
    return executor.returning(Todo, _BATCH_UPDATE_SQL, params)


def _batch_checked(items):
    """A check of a batch edit's rows, before its transaction ends: every id was the owner's,
    and a list or parent sent back is the todo's own (else only a move changes it)."""

    def check(rows):
        by_id = {todo.pk: todo for todo in rows}
        errors = {}
        for index, item in enumerate(items):
            todo = by_id.get(item["id"])
            if todo is None:
                errors[index] = {"id": [NO_TODO]}
                continue
            moved = {
                name.removesuffix("_id"): [MOVE_HINT]
                for name in ("list_id", "parent_id")
                if name in item and item[name] != getattr(todo, name)
            }
            if moved:
                errors[index] = moved
        if errors:
            raise ValidationError(errors)

    return check


def _in_input_order(items, rows):
    by_id = {todo.pk: todo for todo in rows}
    return [by_id[item["id"]] for item in items]


def update_todos(*, owner, items):
    """Change many of the owner's todos in one UPDATE inside one transaction; each item is
    `{"id": n, ...fields}` with the fields to change (`list_id`/`parent_id` only as they are).
    The todos in input order. All or nothing: an id that is not the owner's, or a list or
    parent that differs, raises ValidationError naming the item, and nothing is written."""
    rows = executor.run_atomic_sync(_batch_update(owner, items), _batch_checked(items))
    return _in_input_order(items, rows)


async def aupdate_todos(*, owner, items):
    rows = await executor.run_atomic(_batch_update(owner, items), _batch_checked(items))
    return _in_input_order(items, rows)


def _batch_delete(owner, ids):
    t = Todo._meta.db_table
    sql = f"DELETE FROM {t} WHERE owner_id = %s AND id = ANY(%s::bigint[]) RETURNING id"
    read = lambda rows, rowcount: {row[0] for row in rows}  # noqa: E731
    return executor.Statement(sql, [_pk(owner), list(ids)], using="default", read=read)


def _ids_checked(ids):
    def check(deleted):
        missing = {index: [NO_TODO] for index, pk in enumerate(ids) if pk not in deleted}
        if missing:
            raise ValidationError({"ids": missing})

    return check


def delete_todos_by_id(*, owner, ids):
    """Delete many of the owner's todos (and their subtasks: the database's cascade) in one
    DELETE inside one transaction. All or nothing: an id that is not the owner's raises
    ValidationError naming its position, and nothing is deleted."""
    executor.run_atomic_sync(_batch_delete(owner, ids), _ids_checked(ids))


async def adelete_todos_by_id(*, owner, ids):
    await executor.run_atomic(_batch_delete(owner, ids), _ids_checked(ids))


def _batch_move(owner, ids, list_id):
    """One UPDATE: the todos go first into the list, each a top-level todo unless its parent
    goes too; their subtasks go with them (in place under them)."""
    t = Todo._meta.db_table
    now = timezone.now()
    places = [positions.newest(now.timestamp(), rank) for rank in range(len(ids))]
    sql = f"""
        UPDATE {t} SET
            list_id = %s,
            parent_id = CASE WHEN parent_id = ANY(%s::bigint[]) THEN parent_id END,
            position = COALESCE((%s::text[])[array_position(%s::bigint[], id)], position),
            updated_at = %s
        WHERE owner_id = %s AND (id = ANY(%s::bigint[]) OR parent_id = ANY(%s::bigint[]))
        RETURNING id"""
    params = [list_id, ids, places, ids, now, _pk(owner), ids, ids]
    read = lambda rows, rowcount: {row[0] for row in rows}  # noqa: E731
    return executor.Statement(sql, params, using="default", read=read)


def move_todos_to_list(*, owner, ids, list_id):
    """Move many of the owner's todos (and their subtasks) first into one of the owner's
    lists, in one UPDATE inside one transaction; all or nothing (ValidationError). Returns
    that list."""
    target = TodoList.objects.filter(owner_id=_pk(owner), pk=list_id).first()
    if target is None:
        raise ValidationError({"list": [NO_LIST]})
    executor.run_atomic_sync(_batch_move(owner, list(ids), list_id), _ids_checked(ids))
    return target
