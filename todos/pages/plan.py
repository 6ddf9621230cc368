"""Today and Upcoming: the open todos of every list by due date, in the user's time zone."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .. import selectors
from .live import live_page
from .sidebar import sidebar


@login_required
@live_page
def today_page(request):
    context = sidebar(request, current="today")
    todos = selectors.today_todos(request.user, context["today"])
    context.update(
        overdue=[t for t in todos if t.due_date < context["today"]],
        due_today=[t for t in todos if t.due_date == context["today"]],
        back_to=request.get_full_path(),
    )
    return render(request, "todos/today.html", context)


@login_required
@live_page
def upcoming_page(request):
    context = sidebar(request, current="upcoming")
    context.update(
        days=selectors.upcoming_days(request.user, context["today"]),
        back_to=request.get_full_path(),
    )
    return render(request, "todos/upcoming.html", context)
