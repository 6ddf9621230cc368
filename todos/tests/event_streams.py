"""A Server-Sent Events client for the tests: one stream of GET /api/events over HTTP, read
event by event with a deadline."""

import json
import time

import httpx


class Event:
    def __init__(self, kind, data, id, comments):
        self.kind, self.id, self.comments = kind, id, comments
        self.raw = data
        self.data = json.loads(data) if data else None

    def __repr__(self):
        return f"Event({self.kind!r}, {self.raw!r}, id={self.id!r})"


class EventStream:
    """`GET /api/events` with these headers; `status`, `headers`, `body` (for an error) and
    `next()` for the stream's events."""

    def __init__(self, base_url, headers=None, *, params=None, read_timeout=10):
        self.client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(read_timeout))
        self.response = self.client.send(
            self.client.build_request("GET", "/api/events", headers=headers, params=params),
            stream=True,
        )
        self.status = self.response.status_code
        self.headers = self.response.headers
        self.retry = None  # the last `retry:` the server sent
        self.ended = False
        if self.status != 200:
            self.body = self.response.read()
            self.close()
        else:
            self._lines = self.response.iter_lines()

    def json(self):
        return json.loads(self.body)

    def next(self, *, timeout=10, comments=False):
        """The next event (or, with `comments`, the next comment line as an Event of kind
        None); None when the server ended the stream."""
        deadline = time.monotonic() + timeout
        kind, data, event_id, seen = "message", [], None, []
        while time.monotonic() < deadline:
            try:
                line = next(self._lines)
            except StopIteration:
                self.ended = True
                return None
            if line.startswith(":"):
                seen.append(line[1:].strip())
                if comments:
                    return Event(None, "", None, seen)
            elif line.startswith("retry:"):
                self.retry = int(line[6:].strip())
            elif line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line.startswith("id:"):
                event_id = line[3:].strip()
            elif line == "" and data:
                return Event(kind, "\n".join(data), event_id, seen)
        raise AssertionError(f"no event within {timeout} s")

    def events_until(self, predicate, *, timeout=10):
        """Events up to and including the first for which `predicate(event)` is true."""
        deadline = time.monotonic() + timeout
        found = []
        while True:
            event = self.next(timeout=max(0.1, deadline - time.monotonic()))
            if event is None:
                raise AssertionError(f"the stream ended after {found}")
            found.append(event)
            if predicate(event):
                return found

    def close(self):
        self.response.close()
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
