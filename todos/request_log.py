"""The request's context for logging: its id and user, on every log line written while the
request runs, and the formatters (one JSON object per line, or text for a terminal).

The context is one mutable object in a context variable, set by todos.observe for each request:
asgiref copies the context into the threads it runs sync code in, so the same object is seen
there, and the user noted by the authentication code (todos.api.auth, the auth backend) reaches
the request's log line."""

import contextvars
import datetime as dt
import itertools
import json
import logging
import re
import secrets

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
    return f"{_PREFIX}{next(_sequence):016x}"


def note_user(user):
    """Called where a request's user becomes known (token, session or password)."""
    context = current.get()
    if context is not None and user is not None:
        context.user_id = user.pk


class RequestContextFilter(logging.Filter):
    """Puts the request id and user id on every record (None outside a request)."""

    def filter(self, record):
        context = current.get()
        record.request_id = context and context.request_id
        if not hasattr(record, "user_id"):
            record.user_id = context and context.user_id
        return True


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
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="microseconds"
            ),
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


class TextLines(logging.Formatter):
    def __init__(self):
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s pid=%(process)d request=%(request_id)s "
            "user=%(user_id)s %(message)s"
        )
