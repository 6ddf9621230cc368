"""Quick add: one line such as "Pay rent tomorrow !high #Home" read into a title, a due date,
a priority and a list, in the user's time zone and locale (dates by dateparser, in the locale's
language and order of day and month: todos.locales). The pages show what was read before it is
saved (app.js asks `preview`) and say it after."""

import dataclasses
import datetime as dt
import re

import dateparser
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from .. import locales, selectors, services
from ..models import Priority
from ..templatetags.days import day
from .forms import TodoForm
from .navigation import back

PRIORITY = re.compile(r"(?<!\S)!(high|medium|low)(?!\S)", re.IGNORECASE)
LIST = re.compile(r"(?<!\S)#(\S+)")
LONGEST_DATE = 3  # words at the end of the line tried as a date ("in 3 days", "next fri")
LEADING = {"on", "by", "due"}  # "call mum on fri": the title is "call mum"
SETTINGS = {
    "PREFER_DATES_FROM": "future",
    "PREFER_DAY_OF_MONTH": "first",
    "PREFER_LOCALE_DATE_ORDER": False,  # the order comes from locales.reading_settings
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PARSERS": ["relative-time", "absolute-time"],
}


@dataclasses.dataclass
class Reading:
    title: str
    due_date: dt.date | None = None
    priority: Priority | None = None
    list: object = None  # the TodoList named with #, if the user has it
    unknown_list: str = ""


def read(text, *, lists, now, locale=locales.DEFAULT):
    """What a quick-add line says. `lists` are the user's lists, `now` their local time."""
    reading = Reading(title="")
    found = PRIORITY.search(text)
    if found:
        reading.priority = Priority.from_name(found.group(1).lower())
    text = PRIORITY.sub(" ", text)
    found = LIST.search(text)
    if found:
        name = found.group(1).casefold()
        reading.list = next((ls for ls in lists if ls.name.casefold() == name), None)
        if reading.list:
            text = LIST.sub(" ", text, count=1)
        else:  # kept in the title, and the preview says so
            reading.unknown_list = found.group(1)
    words = text.split()
    reading.due_date, words = _trailing_date(words, now, locale)
    reading.title = " ".join(words)
    return reading


def _trailing_date(words, now, locale):
    languages, order = locales.reading_settings(locale)
    settings = {**SETTINGS, "DATE_ORDER": order, "RELATIVE_BASE": now.replace(tzinfo=None)}
    for size in range(min(LONGEST_DATE, len(words) - 1), 0, -1):  # a title word always stays
        phrase = " ".join(words[-size:])
        if not re.search(r"[^\W\d]|/", phrase):
            continue  # a bare number ("Buy 2") is no date
        parsed = dateparser.parse(phrase, locales=languages, settings=settings)
        if parsed is not None:
            rest = words[:-size]
            while len(rest) > 1 and rest[-1].casefold() in LEADING:
                rest = rest[:-1]
            return parsed.date(), rest
    return None, words


def read_for(user, text):
    return read(
        text,
        lists=selectors.lists_with_counts(user, timezone.localdate()),
        now=timezone.localtime(),
        locale=locales.of(user),
    )


@login_required
def preview(request):
    """What a line would add, as a small HTML fragment (app.js shows it under the field)."""
    text = request.GET.get("text", "")[:500]
    reading = read_for(request.user, text) if text.strip() else None
    return render(request, "todos/_quick_preview.html", {"reading": reading})


@login_required
@require_POST
def add(request):
    """Add what a quick-add line says, into its #list or else the list the form is on."""
    reading = read_for(request.user, request.POST.get("text", "")[:500])
    form = TodoForm(
        data={
            "title": reading.title,
            "priority": (reading.priority or Priority.MEDIUM).label,
            "due_date": reading.due_date.isoformat() if reading.due_date else "",
            "description": "",
        }
    )
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, f"Nothing was added: {problems}")
        return back(request)
    list_id = reading.list.pk if reading.list else _list_id(request)
    try:
        todo = services.create_todo(owner=request.user, list_id=list_id, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(str(m) for ms in error.detail.values() for m in ms))
        return back(request)
    messages.success(request, f"Added “{todo.title}”{_understood(reading)}.")
    request.session["focus_add"] = True  # the next page puts the cursor back in the field
    return back(request)


def _list_id(request):
    value = request.POST.get("list", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _understood(reading):
    parts = []
    if reading.due_date:
        parts.append(f"due {day(reading.due_date, 'D, M j')}")
    if reading.priority:
        parts.append(f"{reading.priority.label} priority")
    if reading.list:
        parts.append(f"in {reading.list.name}")
    return f" ({', '.join(parts)})" if parts else ""
