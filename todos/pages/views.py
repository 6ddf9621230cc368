"""The browser pages: read through Todo.objects, write through todos.services."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from .. import locales, selectors, services, time_zones
from ..api.pagination import TodoCursorPagination
from ..api.serializers import TodoFilterSerializer
from ..models import OwnerDeleted, Priority, Todo, TodoNotFound
from . import undo
from .forms import AccountForm, SignupForm, TodoEditForm, TodoForm
from .live import live_page
from .navigation import back, back_to
from .sidebar import sidebar

FILTER_LABELS = {
    "q": "Search",
    "completed": "Status",
    "priority": "Priority",
    "due_before": "Due before",
    "due_after": "Due after",
}
FILTER_NAMES = tuple(FILTER_LABELS)  # the page's; the API's list, parent and order aside


@login_required
@live_page
def todo_list(request):
    if any(not value for value in request.GET.values()):
        # The filter form sends "any" as an empty value: the same page without the empty keys.
        kept = request.GET.copy()
        for name in [name for name, value in request.GET.items() if not value]:
            del kept[name]
        return redirect(f"{request.path}?{kept.urlencode()}" if kept else request.path)
    filters, errors = _list_filters(request)
    search = filters.pop("q")
    todos = Todo.objects.for_owner(request.user).filtered(**filters)
    page = {"results": [], "next": None, "previous": None}
    try:
        # The API's keyset pagination: each page is one indexed range scan, however deep.
        paginator = TodoCursorPagination(Request(request))
    except ValidationError as error:  # a broken or outdated cursor, or a bad page_size
        errors.update(_messages_of(error.detail))
    else:
        if search is None:
            fetched = list(paginator.page_queryset(todos, paginator.position))
        else:  # the API's search (the one index and word rule), in the page's order
            found = {**filters, "q": search}
            fetched = selectors.list_todos(owner=request.user, filters=found, paginator=paginator)
        page = paginator.page(fetched, lambda todos: todos)
    context = {
        **sidebar(request, current="all"),
        "todos": page["results"],
        "form": TodoForm(),
        "filters": {name: request.GET.get(name, "") for name in FILTER_NAMES},
        "filtering": any(v is not None for v in filters.values()) or bool(errors or search),
        "filters_on": any(v is not None for v in filters.values()) or bool(errors),
        "search": search,
        "filter_errors": errors,
        "priorities": [p.label for p in Priority],
        "next_url": _relative(page["next"]),
        "previous_url": _relative(page["previous"]),
        "back_to": request.get_full_path(),
        "overdue_before": timezone.localdate().isoformat(),
    }
    if context["focus_add"]:  # just added one: the cursor back in the field
        context["form"].fields["title"].widget.attrs["autofocus"] = True
    return render(request, "todos/list.html", context, status=400 if errors else 200)


@login_required
def todo_create(request):
    form = TodoForm(request.POST or None)
    if form.is_valid():
        # The list page's forms name a list, or a parent for a subtask.
        place = {
            f"{name}_id": int(value)
            for name in ("list", "parent")
            if (value := request.POST.get(name, "")).isascii()
            and value.isdigit()
            and len(value) <= 18
        }
        try:
            todo = services.create_todo(owner=request.user, **form.cleaned_data, **place)
        except ValidationError as error:
            messages.error(request, " ".join(str(m) for ms in error.detail.values() for m in ms))
            return back(request)
        except (IntegrityError, OwnerDeleted) as error:
            if not services.refers_to_a_deleted_user(error):
                raise
            logout(request)  # the account was deleted after this request read the session
            return redirect_to_login(request.get_full_path())
        messages.success(request, f"Added “{todo.title}”.")
        request.session["focus_add"] = True
        return back(request)
    list_id = request.GET.get("list") or request.POST.get("list", "")
    context = {"form": form, "back_to": back_to(request), "list_id": list_id}
    return render(request, "todos/form.html", context)


@login_required
def todo_edit(request, pk):
    todo = get_object_or_404(Todo.objects.for_owner(request.user), pk=pk)
    form = TodoEditForm(request.POST or None, instance=todo)
    if form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        todo = services.update_todo(owner=request.user, pk=pk, **changed) or _gone()
        messages.success(request, f"Saved “{todo.title}”.")
        return back(request)
    context = {"form": form, "todo": todo, "back_to": back_to(request)}
    return render(request, "todos/form.html", context)


@login_required
@require_POST
def todo_toggle(request, pk):
    completed = request.POST.get("completed", "true") == "true"
    closes = selectors.open_subtask_ids(request.user, pk) if completed else []
    todo = services.update_todo(owner=request.user, pk=pk, completed=completed) or _gone()
    text = f"Marked “{todo.title}” {'done' if completed else 'not done'}."
    action = undo.completed(request, todo, closes)
    if request.headers.get("X-Requested-With") == "fetch":
        # The list's script swaps in the new row and announces the text (and its Undo) itself.
        context = {
            "todo": todo,
            "back_to": back_to(request),
            "announce": text,
            "undo_url": undo.offer(request, action),
        }
        return render(request, "todos/_item.html", context)
    undo.message(request, text, action)
    return back(request)


@login_required
@require_POST
def todo_title(request, pk):
    """A new title from the list's inline edit (app.js): the row's new HTML, or a 400 with the
    problem; without the script (a plain POST) back to the list with a message."""
    try:
        title = TodoForm.base_fields["title"].clean(request.POST.get("title", ""))
    except DjangoValidationError as error:
        problem = " ".join(error.messages)
        if request.headers.get("X-Requested-With") == "fetch":
            return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
        messages.error(request, f"The title was not changed: {problem}")
        return back(request)
    todo = services.update_todo(owner=request.user, pk=pk, title=title) or _gone()
    text = f"Renamed to “{todo.title}”."
    if request.headers.get("X-Requested-With") == "fetch":
        context = {"todo": todo, "back_to": back_to(request), "announce": text}
        return render(request, "todos/_item.html", context)
    messages.success(request, text)
    return back(request)


@login_required
def todo_delete(request, pk):
    """A confirmation page (GET: what a delete button without JavaScript opens), then the
    delete (POST), with an Undo."""
    todo = get_object_or_404(Todo.objects.for_owner(request.user), pk=pk)
    if request.method != "POST":
        context = {
            "todo": todo,
            "subtasks": Todo.objects.filter(parent=todo).count(),
            "back_to": back_to(request, avoid=reverse("todos:edit", args=[pk])),
        }
        return render(request, "todos/todo_delete.html", context)
    action = undo.deleted(request, pk)
    services.delete_todo(owner=request.user, pk=todo.pk)
    undo.message(request, f"Deleted “{todo.title}”.", action)
    return back(request, avoid=reverse("todos:edit", args=[pk]))


def signup(request):
    if request.user.is_authenticated:
        return redirect("todos:list")
    form = SignupForm(request.POST or None)
    if form.is_valid():
        user = form.save()
        _remember_the_browsers_settings(request, user)
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(request, f"Welcome, {user.username}! Add your first todo below.")
        return redirect("todos:list")
    return render(request, "registration/signup.html", {"form": form})


def _remember_the_browsers_settings(request, user):
    """Signup and login carry the browser's time zone and locale (app.js fills them in)."""
    time_zones.remember(user, request.POST.get("time_zone", ""))
    locales.remember(user, request.POST.get("locale", ""))


@login_required
def account(request):
    """The account page: the time zone that "today" and every shown time use, and the locale
    quick add reads dates in."""
    initial = {
        "time_zone": timezone.get_current_timezone_name(),
        "locale": locales.of(request.user),
    }
    form = AccountForm(request.POST or None, initial=initial)
    if form.is_valid():
        time_zones.remember(request.user, form.cleaned_data["time_zone"])
        saved = f"Your time zone is now {form.cleaned_data['time_zone']}."
        if locales.remember(request.user, form.cleaned_data["locale"]):
            saved += f" Quick add reads dates as {form.cleaned_data['locale']} does."
        messages.success(request, saved)
        return redirect("account")
    return render(request, "registration/account.html", {"form": form})


def _gone():
    raise TodoNotFound()


def _list_filters(request):
    """The API's filter rules on the page's query string; an empty value means 'any'.
    Returns the valid filters and a message for each one that is not."""
    given = {name: request.GET[name] for name in FILTER_NAMES if request.GET.get(name, "").strip()}
    filters = TodoFilterSerializer(data=given)
    if filters.is_valid():
        return _page_filters(filters.validated_data), {}
    valid = TodoFilterSerializer(data={k: v for k, v in given.items() if k not in filters.errors})
    valid.is_valid()
    return _page_filters(valid.validated_data), _messages_of(filters.errors)


def _page_filters(validated):
    return {name: validated.get(name) for name in FILTER_NAMES}


def _messages_of(detail):
    return {
        FILTER_LABELS.get(name, name.replace("_", " ").capitalize()): " ".join(map(str, problems))
        for name, problems in detail.items()
    }


def _relative(url):
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def form_valid(self, form):
        _remember_the_browsers_settings(self.request, form.get_user())
        messages.success(self.request, f"Signed in as {form.get_user().username}.")
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out. See you soon.")
        return response
