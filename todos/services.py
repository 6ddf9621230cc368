"""Every write to todos goes through these functions; the API, pages and admin share them.

Each write is one statement. The sync functions run on Django's connection; their async twins
run through todos.executor, on the API fast lane's pool when the request has one.
"""

import psycopg
from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.db.models import Case, F, When
from django.utils import timezone

from . import executor
from .executor import Param
from .models import Todo

EDITABLE_FIELDS = frozenset(("title", "description", "priority", "due_date", "completed"))


def _new_todo(owner, fields, now=None):
    now = now or timezone.now()
    todo = Todo(owner_id=_pk(owner), created_at=now, updated_at=now, **fields)
    if todo.completed:
        todo.completed_at = now
    return todo


def create_todo(*, owner, **fields):
    return executor.run_sync(executor.insert(_new_todo(owner, fields)))


async def acreate_todo(*, owner, **fields):
    return await executor.run(executor.insert(_new_todo(owner, fields)))


async def acreate_todos(*, owner, items):
    """Insert many todos in one INSERT inside one transaction; returns them in input order."""
    now = timezone.now()
    todos = [_new_todo(owner, item, now) for item in items]
    return await executor.on_django_connection(Todo.objects.abulk_create(todos))


def _update(owner, pk, fields):
    """One UPDATE ... RETURNING for the owner's todo. Completing stamps completed_at (unless it
    was done already), reopening clears it."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    completed = fields.get("completed")

    def build():
        now = Param.of(Todo, "now", "updated_at")
        values = {name: Param.of(Todo, name) for name in fields}
        values["updated_at"] = now
        if completed is True:
            values["completed_at"] = Case(
                When(completed=False, then=now), default=F("completed_at")
            )
        elif completed is False:
            values["completed_at"] = None
        todos = Todo.objects.for_owner(Param.of(Todo, "owner")).filter(
            pk=Param.of(Todo, "pk", "id")
        )
        return executor.update_returning(todos, values)

    statement = executor.cached(("todo", "update", tuple(sorted(fields)), completed), build)
    return statement.bind(owner=_pk(owner), pk=pk, now=timezone.now(), **fields)


def update_todo(*, owner, pk, **fields):
    """The updated todo, or None when the owner has no todo with this id."""
    return next(iter(executor.run_sync(_update(owner, pk, fields))), None)


async def aupdate_todo(*, owner, pk, **fields):
    return next(iter(await executor.run(_update(owner, pk, fields))), None)


def _delete(owner, pk):
    statement = executor.cached(
        ("todo", "delete"),
        lambda: executor.delete(
            Todo.objects.for_owner(Param.of(Todo, "owner")).filter(pk=Param.of(Todo, "pk", "id"))
        ),
    )
    return statement.bind(owner=_pk(owner), pk=pk)


def delete_todo(*, owner, pk):
    """Delete one of the owner's todos; False when there was none."""
    return executor.run_sync(_delete(owner, pk)) > 0


async def adelete_todo(*, owner, pk):
    return await executor.run(_delete(owner, pk)) > 0


def _pk(user_or_pk):
    return getattr(user_or_pk, "pk", user_or_pk)


def set_completed(*, todos, completed):
    """Mark a queryset of todos done or not done in one UPDATE; returns how many changed."""
    now = timezone.now()
    return todos.exclude(completed=completed).update(
        completed=completed,
        completed_at=now if completed else None,
        updated_at=now,
    )


def delete_todos(*, todos):
    """Delete a queryset of todos (the admin's bulk delete); returns how many were deleted."""
    deleted, _ = todos.delete()
    return deleted


def refers_to_a_deleted_user(exc):
    """Whether a write failed on its reference to a user: the caller was deleted after the
    request authenticated (a worker remembers a token's user for API_TOKEN_CACHE_SECONDS; a
    page read its session's user first). Django names every foreign key constraint
    `..._fk_<table>_<column>` of the table it refers to."""
    error = exc.__cause__ if isinstance(exc, IntegrityError) else exc
    if not isinstance(error, psycopg.errors.ForeignKeyViolation):
        return False
    user = get_user_model()._meta
    return (error.diag.constraint_name or "").endswith(f"_fk_{user.db_table}_{user.pk.column}")
