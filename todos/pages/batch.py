"""Many todos at once from the pages: the checked todos completed, reopened, deleted (after a
confirmation) or moved to a list, each by one call of the service the API's batch endpoints
use (todos.services.update_todos, delete_todos_by_id; move_todos_to_list)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from .. import services
from ..models import Todo
from .navigation import back, back_to

MAX_BATCH = 1000
GONE = "Some of those todos are gone (deleted elsewhere?): nothing was changed."


def _checked_ids(request):
    """The checked todos' ids, each once, in page order; None when any is not an id."""
    raw = request.POST.getlist("ids")
    if not all(value.isascii() and value.isdigit() and len(value) <= 18 for value in raw):
        return None
    return list(dict.fromkeys(int(value) for value in raw))


@login_required
@require_POST
def todo_batch(request):
    ids, action = _checked_ids(request), request.POST.get("action")
    if not ids:
        messages.error(request, "Select at least one todo first.")
        return back(request)
    if len(ids) > MAX_BATCH:
        messages.error(request, f"Select at most {MAX_BATCH} todos at once.")
        return back(request)
    try:
        if action in ("complete", "reopen"):
            completed = action == "complete"
            items = [{"id": pk, "completed": completed} for pk in ids]
            services.update_todos(owner=request.user, items=items)
            done = f"Marked {_count(ids)} {'done' if completed else 'not done'}."
        elif action == "move":
            list_id = request.POST.get("list", "")
            if not (list_id.isascii() and list_id.isdigit() and len(list_id) <= 18):
                messages.error(request, "Choose the list to move them to.")
                return back(request)
            target = services.move_todos_to_list(owner=request.user, ids=ids, list_id=int(list_id))
            done = f"Moved {_count(ids)} to {target.name}."
        elif action == "delete":
            if request.POST.get("confirmed") != "yes":
                return _confirm_delete(request, ids)
            services.delete_todos_by_id(owner=request.user, ids=ids)
            done = f"Deleted {_count(ids)}."
        else:
            messages.error(request, "Choose what to do with the selected todos.")
            return back(request)
    except ValidationError as error:
        messages.error(request, "That list is not yours." if "list" in error.detail else GONE)
        return back(request)
    messages.success(request, done)
    return back(request)


def _confirm_delete(request, ids):
    todos = Todo.objects.for_owner(request.user).filter(pk__in=ids).order_by("-created_at", "-id")
    context = {"todos": todos, "ids": ids, "back_to": back_to(request)}
    return render(request, "todos/batch_delete.html", context)


def _count(ids):
    return "1 todo" if len(ids) == 1 else f"{len(ids)} todos"
