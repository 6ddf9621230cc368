"""The pages of lists: one list in manual order with its subtasks indented, a sidebar of every
list with its open count, and the forms that add, rename, delete and move, all through
todos.services (a move is services.move_todo, as in the API)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from .. import selectors, services
from ..models import Todo, TodoList
from . import undo
from .forms import TodoForm
from .live import live_page
from .sidebar import sidebar


def _with_moves(todos):
    """Each todo with the `after` of a move up and of a move down ("" = first; None = none), and
    the todo above it (a top-level todo can become its last subtask)."""
    rows = []
    for i, todo in enumerate(todos):
        up = None if i == 0 else (todos[i - 2].pk if i >= 2 else "")
        down = todos[i + 1].pk if i + 1 < len(todos) else None
        above = todos[i - 1] if i else None
        rows.append({"todo": todo, "up": up, "down": down, "above": above})
    return rows


@login_required
@live_page
def inbox_page(request):
    """`/`: the Inbox."""
    inbox = TodoList.objects.get(pk=selectors.inbox_id(request.user))
    return _list_page(request, inbox)


@login_required
@live_page
def list_page(request, pk):
    todo_list = get_object_or_404(TodoList.objects.for_owner(request.user), pk=pk)
    if todo_list.is_inbox:  # one address for the Inbox: `/`
        query = request.META.get("QUERY_STRING")
        return redirect(reverse("todos:list") + (f"?{query}" if query else ""))
    return _list_page(request, todo_list)


def _unmoved(todo):
    """A row without Up, Down and In: shown in an order other than the manual one."""
    return {"todo": todo, "up": None, "down": None, "above": None, "into": None}


ORDERS = (("position", "My order"), ("due", "Due date"), ("newest", "Newest"))


def _list_page(request, todo_list):
    order = request.GET.get("order", "position")
    if order not in selectors.LIST_ORDERS:
        order = "position"
    open_, done, subtasks = selectors.list_page_todos(todo_list, order)
    manual = order == "position"  # moves only where the order shown is the manual one
    rows = _with_moves(open_) if manual else [_unmoved(todo) for todo in open_]
    for row in rows:
        row["subtasks"] = _with_moves(subtasks.get(row["todo"].pk, []))
    for row in rows if manual else ():  # "In": under the todo above, last among its subtasks
        above = row["above"] and next(r for r in rows if r["todo"] is row["above"])
        row["into"] = None
        if above and not row["subtasks"]:
            last = above["subtasks"][-1]["todo"].pk if above["subtasks"] else ""
            row["into"] = {"parent": above["todo"], "after": last}
    context = {
        **sidebar(request, current=todo_list.pk),
        "todo_list": todo_list,
        "rows": rows,
        "manual": manual,
        "order": order,
        "orders": ORDERS,
        "done": [
            {"todo": t, "subtasks": subtasks.get(t.pk, [])}
            for t in done[: selectors.COMPLETED_SHOWN]
        ],
        "more_done": len(done) > selectors.COMPLETED_SHOWN,
        "more": len(open_) == selectors.LIST_PAGE_SIZE,
        "form": TodoForm(),
        "back_to": request.get_full_path(),
    }
    return render(request, "todos/todo_list.html", context)


def _problems(error):
    return " ".join(str(m) for messages_ in error.detail.values() for m in messages_)


@login_required
@require_POST
def list_create(request):
    name = request.POST.get("name", "").strip()
    try:
        if not name or len(name) > 100:
            raise ValidationError({"name": ["A list needs a name of 1-100 characters."]})
        todo_list = services.create_list(owner=request.user, name=name)
    except ValidationError as error:
        messages.error(request, _problems(error))
        return redirect(_next(request))
    messages.success(request, f"Added the list “{todo_list.name}”.")
    return redirect("todos:todo-list", pk=todo_list.pk)


@login_required
@require_POST
def list_rename(request, pk):
    name = request.POST.get("name", "").strip()
    try:
        if not name or len(name) > 100:
            raise ValidationError({"name": ["A list needs a name of 1-100 characters."]})
        services.rename_list(owner=request.user, pk=pk, name=name)
    except ValidationError as error:
        messages.error(request, _problems(error))
    else:
        messages.success(request, f"Renamed the list to “{name}”.")
    return redirect("todos:todo-list", pk=pk)


@login_required
def list_delete(request, pk):
    """A confirmation page (GET), then the delete (POST) of the list and its todos."""
    todo_list = get_object_or_404(TodoList.objects.for_owner(request.user), pk=pk)
    if todo_list.is_inbox:
        messages.error(request, "The Inbox cannot be deleted (it can be renamed).")
        return redirect("todos:todo-list", pk=pk)
    if request.method == "POST":
        services.delete_list(owner=request.user, pk=pk)
        messages.success(request, f"Deleted the list “{todo_list.name}” and its todos.")
        return redirect("todos:list")
    total = Todo.objects.filter(list=todo_list).count()
    return render(request, "todos/list_delete.html", {"todo_list": todo_list, "total": total})


@login_required
@require_POST
def todo_move(request, pk):
    """Move up, down, to another list, in or out of a parent: services.move_todo."""
    place = {}
    for name in ("list", "parent", "after"):
        value = request.POST.get(name)
        if value is not None:
            if value and not (value.isascii() and value.isdigit() and len(value) <= 18):
                messages.error(request, "That move could not be made.")
                return redirect(_next(request))
            place[name] = int(value) if value else None
    if place.get("list") is None:
        place.pop("list", None)
    action = undo.moved(request, pk)
    try:
        todo = services.move_todo(owner=request.user, pk=pk, **place)
    except ValidationError as error:
        messages.error(request, _problems(error))
    else:
        undo.message(request, f"Moved “{todo.title}”.", action)
    return redirect(_next(request))


def _next(request):
    url = request.POST.get("next", "")
    return url if url.startswith("/") and not url.startswith("//") else reverse("todos:list")
