"""What an API operation is given and what it gives back, whichever door the request came in by
(the DRF views or the fast lane)."""

from typing import NamedTuple


class Answer(NamedTuple):
    """An operation's result: the status, the JSON-ready data (None for no body) and the headers
    it sets itself (Location, ETag...)."""

    status: int
    data: object = None
    headers: dict = {}


class Call:
    """One request as an operation sees it: who makes it, the todo id in the path (or None),
    Django's request (query string, headers, URL), and the body parsed on first use (a parse
    error raises from `data`, as DRF's `request.data` does)."""

    __slots__ = ("_data", "_parse", "pk", "request", "user")

    def __init__(self, *, user, request, parse, pk=None):
        self.user, self.request, self.pk = user, request, pk
        self._parse = parse

    @property
    def data(self):
        try:
            return self._data
        except AttributeError:
            self._data = self._parse()
            return self._data
