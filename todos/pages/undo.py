"""Undo for the pages' complete, reopen, delete and move: the action that reverses one is kept
in the session under a token, and the change's message carries an Undo button (a POST form: it
works without JavaScript; with it, app.js takes the button away after about 10 s)."""

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from .. import selectors, services
from ..models import Todo

SESSION_KEY = "undo"
KEPT = 5  # the latest undoable changes of a session


def offer(request, action):
    """Keep `action` for an undo; returns the URL that performs it."""
    token = secrets.token_urlsafe(9)
    offers = request.session.get(SESSION_KEY, {})
    offers[token] = action
    for old in list(offers)[:-KEPT]:
        del offers[old]
    request.session[SESSION_KEY] = offers
    return reverse("todos:undo", args=[token])


def message(request, text, action):
    """The change's message, with an Undo."""
    url = offer(request, action)
    messages.success(request, text, extra_tags=f"undoable {url}")
    return url


def completed(request, todo, subtask_ids=()):
    """Undo for marking `todo` done or not done (and the subtasks that marking it done closed)."""
    return {"kind": "completed", "ids": [todo.pk, *subtask_ids], "value": not todo.completed}


def deleted(request, pk):
    return {"kind": "deleted", "rows": selectors.rows_of_todo_and_subtasks(request.user, pk)}


def moved(request, pk):
    return {"kind": "moved", "pk": pk, "place": selectors.place_of(request.user, pk)}


@login_required
@require_POST
def undo(request, token):
    offers = request.session.get(SESSION_KEY, {})
    action = offers.pop(token, None)
    request.session[SESSION_KEY] = offers
    if action is None:
        messages.info(request, "That can no longer be undone.")
        return redirect(_next(request))
    try:
        _perform(request.user, action)
    except (ValidationError, IntegrityError):
        messages.error(request, "That can no longer be undone: the todo changed meanwhile.")
    else:
        messages.success(request, "Undone.")
    return redirect(_next(request))


def _perform(user, action):
    kind = action["kind"]
    if kind == "completed":
        todos = Todo.objects.for_owner(user).filter(pk__in=action["ids"])
        services.set_completed(todos=todos, completed=action["value"])
    elif kind == "deleted":
        services.restore_todos(owner=user, rows=action["rows"])
    elif kind == "moved" and action["place"]:
        services.move_todo(owner=user, pk=action["pk"], **action["place"])


def _next(request):
    url = request.POST.get("next", "")
    return url if url.startswith("/") and not url.startswith("//") else reverse("todos:list")
