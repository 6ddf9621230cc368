"""Every write to todos goes through these functions: the API, the pages and the admin share them."""

from asgiref.sync import sync_to_async
from django.utils import timezone

from .models import Todo

EDITABLE_FIELDS = ("title", "description", "priority", "due_date", "completed")


def _new_todo(owner, fields):
    todo = Todo(owner=owner, **fields)
    if todo.completed:
        todo.completed_at = timezone.now()
    return todo


def create_todo(*, owner, **fields):
    todo = _new_todo(owner, fields)
    todo.save(force_insert=True)
    return todo


async def acreate_todo(*, owner, **fields):
    todo = _new_todo(owner, fields)
    await todo.asave(force_insert=True)
    return todo


async def acreate_todos(*, owner, items):
    """Insert many todos in one INSERT inside one transaction; returns them in input order."""
    return await Todo.objects.abulk_create([_new_todo(owner, item) for item in items])


def update_todo(*, todo, **fields):
    """Change the given fields; completing a todo stamps completed_at, reopening clears it."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    if "completed" in fields and fields["completed"] != todo.completed:
        todo.completed_at = timezone.now() if fields["completed"] else None
    for name, value in fields.items():
        setattr(todo, name, value)
    todo.save()
    return todo


aupdate_todo = sync_to_async(update_todo)


def delete_todo(*, owner, pk):
    """Delete one of the owner's todos in one statement; False when there was none."""
    deleted, _ = Todo.objects.for_owner(owner).filter(pk=pk).delete()
    return deleted > 0


adelete_todo = sync_to_async(delete_todo)


def set_completed(*, todos, completed):
    """Mark a queryset of todos done or not done in one UPDATE; returns how many changed."""
    now = timezone.now()
    return todos.exclude(completed=completed).update(
        completed=completed,
        completed_at=now if completed else None,
        updated_at=now,
    )
