"""The API's reads, each one statement built from TodoQuerySet once per shape (see
todos.executor.cached) and run on the request's connection."""

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from . import executor
from .executor import Param
from .models import Todo

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
    """One page of the owner's todos (plus one more, if any follows), filtered and newest
    first; `filters` holds the list filters, None meaning 'any'."""
    return await executor.run(list_statement(owner=owner, filters=filters, paginator=paginator))


def list_statement(*, owner, filters, paginator):
    """The statement behind `alist_todos`, bound to its values."""
    present = tuple(sorted(name for name, value in filters.items() if value is not None))

    def build():
        todos = Todo.objects.for_owner(Param.of(Todo, "owner")).filtered(
            **{name: Param.of(Todo, name, FILTERED_FIELDS[name]) for name in present}
        )
        position = (
            Param.of(Todo, "position_created_at", "created_at"),
            Param.of(Todo, "position_pk", "id"),
        )
        return executor.select(paginator.page_queryset(todos, position))

    statement = executor.cached(
        ("todo", "list", present, paginator.direction, paginator.page_size), build
    )
    values = {name: filters[name] for name in present}
    if paginator.position:
        values["position_created_at"], values["position_pk"] = paginator.position
    return statement.bind(owner=owner.pk, **values)


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
