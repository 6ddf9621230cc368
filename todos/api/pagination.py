"""Keyset (cursor) pagination in each of the list's orders (newest first, by due date, in manual
order): each page is one indexed range scan, so a page deep into a million todos costs the same
as the first one. The cursor carries its order."""

import base64
import binascii
import datetime as dt

from django.db.models import F, Q
from rest_framework.exceptions import ValidationError
from rest_framework.utils.urls import replace_query_param

from .. import positions

NEXT, PREVIOUS = "n", "p"


class TodoCursorPagination:
    """`page_size` 1-100 (default 20) and an opaque `cursor`; anything else is a 400."""

    default_page_size = 20
    max_page_size = 100

    def __init__(self, request, order="newest"):
        self.url, self.order = request.build_absolute_uri(), order
        self.page_size = self._page_size(request.GET.get("page_size"))
        self.cursor = self._decode(request.GET.get("cursor"))

    @property
    def direction(self):
        return self.cursor[0] if self.cursor else None

    @property
    def position(self):
        """The (key, id) the cursor points at, or None on the first page: the key is created_at
        for order=newest, the due date (None: undated) for due, the position for position."""
        return self.cursor[2:] if self.cursor else None

    @property
    def shape(self):
        """What changes the page's SQL: the order, the direction, an undated due cursor."""
        undated = self.order == "due" and self.cursor is not None and self.cursor[2] is None
        return (self.order, self.direction, undated)

    def page_queryset(self, todos, position, size=None):
        """The todos of this page, plus one to tell whether another page follows (or the first
        `size`). `position` is the cursor's (key, id), as values or as placeholders."""
        size = self.page_size + 1 if size is None else size
        return self.in_order(self.past_cursor(todos, position))[:size]

    def past_cursor(self, todos, position):
        """The todos past the cursor, in no order."""
        if self.direction is None:
            return todos
        key, pk = position
        return todos.filter(_beyond(self.order, self.direction == NEXT, key, pk, self.shape[2]))

    def in_order(self, todos):
        """The todos in the page's order (backwards for a previous page)."""
        forward, backward = ORDERINGS[self.order]
        return todos.order_by(*(backward if self.direction == PREVIOUS else forward))

    def page(self, fetched, serialize):
        """The response body for the fetched rows: next and previous links and the results."""
        more = len(fetched) > self.page_size
        todos = fetched[: self.page_size]
        going_back = self.direction == PREVIOUS
        if going_back:
            todos.reverse()
        has_next = (more and not going_back) or going_back
        has_previous = (more and going_back) or (self.cursor is not None and not going_back)
        return {
            "next": self._link(NEXT, todos[-1]) if todos and has_next else None,
            "previous": self._link(PREVIOUS, todos[0]) if todos and has_previous else None,
            "results": serialize(todos),
        }

    def _link(self, direction, todo):
        key = KEYS[self.order][0](todo)
        token = f"{direction}|{self.order}|{key}|{todo.pk}"
        cursor = base64.urlsafe_b64encode(token.encode()).decode()
        return replace_query_param(self.url, "cursor", cursor)

    def _page_size(self, raw):
        if raw is None:
            return self.default_page_size
        # Length first: int() refuses strings of over 4300 digits with a ValueError (a 500).
        if (
            not (raw.isascii() and raw.isdigit())
            or len(raw) > len(str(self.max_page_size))
            or not 1 <= int(raw) <= self.max_page_size
        ):
            raise ValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def _decode(self, raw):
        """The cursor's (direction, order, key, id); only what `_link` writes is valid."""
        if raw is None:
            return None
        try:
            direction, order, key, pk = base64.urlsafe_b64decode(raw.encode()).decode().split("|")
            key, pk_text = KEYS[order][1](key), pk
            pk = int(pk_text)
            valid = direction in (NEXT, PREVIOUS) and str(pk) == pk_text and 0 < pk < 2**63
        except (KeyError, ValueError, binascii.Error, UnicodeError):
            valid = False
        if not valid:
            raise ValidationError({"cursor": ["Invalid cursor."]})
        if order != self.order:
            raise ValidationError({"cursor": [f"This cursor is of order={order}."]})
        return direction, order, key, pk


# Only what `_link` writes is valid: a UTC time, a date and an id, each in its canonical form.
# Python takes offsets that PostgreSQL refuses (16 hours and more) and times whose UTC value
# leaves the years 1-9999; such a value failed on Django's handler and passed on the lane (it
# sends times as UTC binary).
def _utc_datetime(text):
    value = dt.datetime.fromisoformat(text)
    if value.utcoffset() != dt.timedelta(0) or value.isoformat() != text:
        raise ValueError(text)
    return value


def _date_or_none(text):
    if not text:
        return None
    value = dt.date.fromisoformat(text)
    if value.isoformat() != text:
        raise ValueError(text)
    return value


def _position(text):
    if not positions.is_valid(text):
        raise ValueError(text)
    return text


# Per order: the cursor's key of a todo, and how to read it back.
KEYS = {
    "newest": (lambda todo: todo.created_at.isoformat(), _utc_datetime),
    "due": (lambda todo: todo.due_date.isoformat() if todo.due_date else "", _date_or_none),
    "position": (lambda todo: todo.position, _position),
}
# Per order: the order of a page forwards, and backwards (a previous page, read in reverse).
ORDERINGS = {
    "newest": (("-created_at", "-id"), ("created_at", "id")),
    "due": (
        (F("due_date").asc(nulls_last=True), "id"),
        (F("due_date").desc(nulls_first=True), "-id"),
    ),
    # parent_id is one value on such a page (order=position needs the parent filter), but
    # naming it makes the order the index's own: PostgreSQL takes `parent_id IS NULL` for no
    # equality, and would otherwise sort the whole list for every page (docs/lists.md).
    "position": (("parent_id", "position", "id"), ("-parent_id", "-position", "-id")),
}


def _beyond(order, after, key, pk, undated):
    """The rows past the cursor's (key, id), forwards (`after`) or backwards. The redundant
    <= / >= bound is what PostgreSQL can use as a range on the index; the OR alone is only a
    filter, read from the first row on (docs/pages-and-admin.md)."""
    if order == "due":
        if undated:  # undated todos come last, by id
            if after:
                return Q(due_date__isnull=True, pk__gt=pk)
            return Q(due_date__isnull=False) | Q(due_date__isnull=True, pk__lt=pk)
        if after:
            return Q(due_date__gt=key) | Q(due_date=key, pk__gt=pk) | Q(due_date__isnull=True)
        return Q(due_date__lt=key) | Q(due_date=key, pk__lt=pk)
    field = "created_at" if order == "newest" else "position"
    upwards = (order == "newest") != after  # newest first reads forwards to smaller keys
    bigger, bigger_or_equal = ("gt", "gte") if upwards else ("lt", "lte")
    beyond = Q(**{f"{field}__{bigger}": key}) | Q(**{field: key, f"pk__{bigger}": pk})
    return beyond & Q(**{f"{field}__{bigger_or_equal}": key})
