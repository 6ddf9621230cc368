"""Keyset (cursor) pagination, newest first: each page is one indexed range scan, so a page
deep into a million todos costs the same as the first one."""

import base64
import binascii
import datetime as dt

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.utils.urls import replace_query_param

NEXT, PREVIOUS = "n", "p"


class TodoCursorPagination:
    """`page_size` 1-100 (default 20) and an opaque `cursor`; anything else is a 400."""

    default_page_size = 20
    max_page_size = 100

    def __init__(self, request):
        self.url = request.build_absolute_uri()
        self.page_size = self._page_size(request.GET.get("page_size"))
        self.cursor = self._decode(request.GET.get("cursor"))

    @property
    def direction(self):
        return self.cursor[0] if self.cursor else None

    @property
    def position(self):
        """The (created_at, id) the cursor points at, or None on the first page."""
        return self.cursor[1:] if self.cursor else None

    def page_queryset(self, todos, position):
        """The todos of this page, plus one to tell whether another page follows. `position` is
        the cursor's (created_at, id), as values or as placeholders."""
        size = self.page_size + 1
        if self.direction is None:
            return todos.newest_first()[:size]
        created_at, pk = position
        # The redundant <= / >= bound is what PostgreSQL can use as a range on the created_at
        # index; the OR alone is only a filter, read from the newest row on (docs/pages-and-admin.md).
        if self.direction == NEXT:
            after = Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)
            after &= Q(created_at__lte=created_at)
            return todos.filter(after).newest_first()[:size]
        before = Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk)
        before &= Q(created_at__gte=created_at)
        return todos.filter(before).order_by("created_at", "id")[:size]

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
        token = f"{direction}|{todo.created_at.isoformat()}|{todo.pk}"
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
        """The cursor's (direction, created_at, id). Only what `_link` writes is valid: a UTC time
        and an id, each in its canonical form. Python takes offsets that PostgreSQL refuses (16
        hours and more) and times whose UTC value leaves the years 1-9999; such a value failed
        on Django's handler and passed on the lane (it sends times as UTC binary)."""
        if raw is None:
            return None
        try:
            direction, created_text, pk_text = (
                base64.urlsafe_b64decode(raw.encode()).decode().split("|")
            )
            created_at, pk = dt.datetime.fromisoformat(created_text), int(pk_text)
            valid = (
                direction in (NEXT, PREVIOUS)
                and created_at.utcoffset() == dt.timedelta(0)
                and created_at.isoformat() == created_text
                and str(pk) == pk_text
                and 0 < pk < 2**63
            )
        except (ValueError, binascii.Error, UnicodeError):
            valid = False
        if not valid:
            raise ValidationError({"cursor": ["Invalid cursor."]})
        return direction, created_at, pk
