"""The request's context for logging: its id and user, on every log line written while the
request runs, and the formatters (one JSON object per line, or text for a terminal).

The context is one mutable object in a context variable, set by todos.observe for each request:
asgiref copies the context into the threads it runs sync code in, so the same object is seen
there, and the user noted by the authentication code (todos.api.auth, the auth backend) reaches
the request's log line."""

import contextvars
import io
import itertools
import json
import logging
import os
import re
import secrets
import time
from json.encoder import encode_basestring

import orjson

# 1-200 visible ASCII characters: anything else is replaced by an id of our own.
SANE_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,200}")


# Record fields no formatter of ours shows, not gathered (the logging HOWTO's "Optimization").
# The pid stays: every line carries it.
logging.logThreads = False
logging.logMultiprocessing = False
logging._srcfile = None  # no caller's file and line: the HOWTO's way to skip the frame walk


class RequestContext:
    __slots__ = ("request_id", "user_id")

    def __init__(self, request_id):
        self.request_id = request_id
        self.user_id = None


current = contextvars.ContextVar("request_context", default=None)


# Made ids: a random prefix per process and a sequence number, unique across workers and nodes
# as a uuid4 is, at a fraction of its cost on every request.
_PREFIX = secrets.token_hex(8)
_sequence = itertools.count(1)


def request_id_from(header_value):
    if header_value is not None and SANE_REQUEST_ID.fullmatch(header_value):
        return header_value.decode("ascii")
    return "%s%016x" % (_PREFIX, next(_sequence))  # noqa: UP031  (cheaper than format())


def note_user(user):
    """Called where a request's user becomes known (token, session or password)."""
    context = current.get()
    if context is not None and user is not None:
        context.user_id = user.pk


_make_record = logging.getLogRecordFactory()


def _record_in_context(*args, **kwargs):
    record = _make_record(*args, **kwargs)
    context = current.get()
    record.request_id = context and context.request_id
    record.user_id = context and context.user_id
    return record


# The request id and user id go on every record as it is made (None outside a request), whichever
# handler writes it: one context lookup per record, not a filter per handler.
logging.setLogRecordFactory(_record_in_context)


class RequestRecord(logging.LogRecord):
    """A request's line (todos.observe), made without LogRecord's general work: no caller, no
    check of its arguments for a mapping, no file names, no extras loop; the attributes it does
    not gather hold LogRecord's empty values, for any formatter that asks (%-style formatters
    read the record's __dict__). The message is "GET api/todo 200"; the duration is a field of
    its own."""

    def __init__(self, message, method, route, status, duration, context):
        self.__dict__ = _BLANK_REQUEST_RECORD.copy()  # all keys there: no resizing below
        self.created = created = time.time()
        self.msecs = created % 1 * 1000 // 1
        self.relativeCreated = (created - logging._startTime) * 1000
        self.msg = message
        self.process = os.getpid()
        self.method = method
        self.route = route
        self.status = status
        self.duration_seconds = duration
        self.request_id = context.request_id
        self.user_id = context.user_id


REQUEST_LOGGER = "todos.requests"
_BLANK_REQUEST_RECORD = {
    **vars(logging.LogRecord(REQUEST_LOGGER, logging.INFO, "", 0, "", (), None)),
    **dict.fromkeys(("pathname", "filename", "module"), ""),
    **dict.fromkeys(("thread", "threadName", "processName", "taskName")),
    **dict.fromkeys(("method", "route", "status", "duration_seconds", "request_id", "user_id")),
}


# Extras that must not be logged: Django's `request` carries the full path with its query
# string, the headers and the cookies; uvicorn's `color_message` repeats the message in colour.
NEVER_LOGGED = ("request", "color_message")


# What every record has (LogRecord's own attributes), and what a line shows in its fixed fields:
# the rest of a record's attributes are the extras its caller gave, shown as they are.
_NOT_EXTRAS = frozenset(
    (*vars(logging.LogRecord("", 0, "", 0, "", (), None)), "message", "asctime", "taskName")
) | {"request_id", "user_id", *NEVER_LOGGED}


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, pid, request_id, user_id,
    the record's extras, and the traceback of an exception (exc_info).

    Our own, not python-json-logger's: measured on the request path (bench.metrics_inprocess),
    its formatter cost about 90 us of CPU per request line, this one a fraction of it, for the
    same lines. orjson encodes a request line in about a twentieth of json.dumps' time; what it
    refuses (an integer past 64 bits, say) goes through json.dumps."""

    def format(self, record):
        if type(record) is RequestRecord and type(record.user_id) in _JSON_USER_ID:
            return self._request_line(record)
        line = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for name, value in record.__dict__.items():
            if name not in _NOT_EXTRAS:
                line[name] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        try:
            return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            return json.dumps(line, ensure_ascii=False, default=str)

    @staticmethod
    def _request_line(record):
        """The object the general way gives, written by hand: the fields that a route's lines
        share made once (_fields_of), the rest put in one %-format."""
        user_id = record.user_id
        created = record.created
        second = int(created)
        fixed = _fixed_fields.get(record.msg)
        if fixed is None:
            fixed = _fixed_fields[record.msg] = _fields_of(record)
        return _REQUEST_LINE % (
            _date_and_time(second),
            (created - second) * 1e6,
            fixed,
            record.process,
            encode_basestring(record.request_id),
            "null" if user_id is None else user_id,
            record.duration_seconds,
        )


_JSON_USER_ID = frozenset((int, type(None)))  # what the line writes as it is; else the general way
_REQUEST_LINE = (
    '{"time": "%s.%06d+00:00", "level": "INFO", %s, "pid": %d, "request_id": %s, '
    '"user_id": %s, "duration_seconds": %.6f}'
)  # fmt: skip


# A request line's message -> the fields that all lines with that message share, as JSON. A
# message is a method, a route and a status (bounded: routes are URL patterns).
_fixed_fields = {}


def _fields_of(record):
    fields = {
        "logger": record.name,
        "message": record.msg,
        "method": record.method,
        "route": record.route,
    }
    fixed = ", ".join(f"{json.dumps(key)}: {json.dumps(value)}" for key, value in fields.items())
    return f'{fixed}, "status": {record.status:d}'


_second = (None, "")  # a second since the epoch, and its date and time in ISO 8601, UTC


def _date_and_time(second):
    """The UTC date and time of day of a second since the epoch, made once a second."""
    global _second
    cached = _second
    if second != cached[0]:
        cached = _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return cached[1]


def utc_time(timestamp):
    """`timestamp` in ISO 8601, UTC, to the microsecond (as datetime's isoformat writes it)."""
    second = int(timestamp)
    return f"{_date_and_time(second)}.{int((timestamp - second) * 1e6):06d}+00:00"


class TextLines(logging.Formatter):
    def __init__(self):
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s pid=%(process)d request=%(request_id)s "
            "user=%(user_id)s %(message)s"
        )

    def format(self, record):
        line = super().format(record)
        if type(record) is RequestRecord:
            return f"{line} {record.duration_seconds * 1000:.1f} ms"
        return line


def _writes_lines_through(stream):
    return getattr(stream, "line_buffering", False) or (
        getattr(stream, "write_through", False)
        and isinstance(getattr(stream, "buffer", None), io.RawIOBase)
    )


class ConsoleHandler(logging.StreamHandler):
    """logging's StreamHandler, without its flush after each line when the stream writes each
    line through by itself: stderr is line-buffered (Python 3.9 and later), or unbuffered under
    PYTHONUNBUFFERED. So nothing waits in a buffer, and a line costs one write."""

    def __init__(self, stream=None):
        super().__init__(stream)
        self._writes_lines_through = _writes_lines_through(self.stream)

    def setStream(self, stream):
        self._writes_lines_through = _writes_lines_through(stream)
        return super().setStream(stream)

    def handle(self, record):
        if self.filters:
            return super().handle(record)
        with self.lock:
            self.emit(record)
        return True

    def emit(self, record):
        try:
            self.stream.write(self.format(record) + "\n")
            if not self._writes_lines_through:
                self.stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
