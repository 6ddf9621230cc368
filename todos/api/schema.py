"""The OpenAPI description of the API (drf-spectacular): schema-only serializers, the error
shapes, and one `extend_schema(...)` argument set per view method, so the views carry a single
decorator line each. Served at /api/schema/, browsable at /api/docs/ (Swagger UI), its
assets from drf-spectacular-sidecar (no CDN)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from ..pool_status import COUNTERS
from .serializers import (
    MAX_ID,
    MoveSerializer,
    TodoListSerializer,
    TodoSerializer,
)

ERROR = {"$ref": "#/components/schemas/Error"}
FIELD_ERRORS = {"$ref": "#/components/schemas/FieldErrors"}
BULK_ERRORS = {"$ref": "#/components/schemas/BulkErrors"}
IDS_ERRORS = {"$ref": "#/components/schemas/IdsErrors"}

_MESSAGES = {"type": "array", "items": {"type": "string"}}
COMPONENTS = {
    "IdsErrors": {
        "type": "object",
        "description": "Messages about `ids` as a whole, or by the failing id's position "
        '(`{"ids": {"3": ["No todo with this id."]}}`).',
        "properties": {
            "ids": {"anyOf": [_MESSAGES, {"type": "object", "additionalProperties": _MESSAGES}]}
        },
        "additionalProperties": _MESSAGES,
    },
    "Error": {
        "type": "object",
        "description": "Any error that is not about particular fields.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "FieldErrors": {
        "type": "object",
        "description": "Messages by field name; `non_field_errors` for the body as a whole, e.g. "
        '`{"title": ["This field may not be blank."]}`.',
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
    "BulkErrors": {
        "type": "object",
        "description": 'Messages by the failing item\'s position (`{"3": {"priority": [...]}}`), '
        "or `non_field_errors` for the list as a whole.",
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"$ref": "#/components/schemas/FieldErrors"},
            ]
        },
    },
}


# What Python's str.strip() (DRF trims with it) removes, spelled out: regex engines disagree
# on \s (JSON Schema's ECMA flavour lacks U+0085 and U+001C-U+001F, and adds U+FEFF).
SPACE_CHARS = (
    r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SPACE = f"[{SPACE_CHARS}]"
_TEXT = f"[^{SPACE_CHARS}]"
TITLE_IN = {
    "type": "string",
    "pattern": rf"^{_SPACE}*{_TEXT}([\s\S]{{0,198}}{_TEXT})?{_SPACE}*$",
    "description": "1-200 characters after surrounding whitespace is trimmed.",
}

NAME_IN = {
    "type": "string",
    "pattern": rf"^{_SPACE}*{_TEXT}([\s\S]{{0,98}}{_TEXT})?{_SPACE}*$",
    "description": "1-100 characters after surrounding whitespace is trimmed; unique among your "
    "lists, ignoring case.",
}


# A todo as read can be sent back: its read-only fields are accepted and ignored; any other
# field that is not the todo's is a 400 naming it.
READ_ONLY_FIELDS = ("id", "completed_at", "created_at", "updated_at", "position")
SENT_BACK = {
    "description": "Read-only: accepted and ignored, so that a todo as read can be sent back."
}


def add_components(result, generator, request, public):
    """drf-spectacular post-processing hook: the error shapes referenced above; titles and
    usernames as the API reads them (trimmed, then not blank; titles 1-200 characters); todo
    bodies with no unknown fields; and every request body of this API is required (a missing
    one is a 400)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(COMPONENTS)
    for name in ("TodoRequest", "PatchedTodoRequest"):
        schemas[name]["properties"]["title"] = TITLE_IN
        schemas[name]["properties"].update(dict.fromkeys(READ_ONLY_FIELDS, SENT_BACK))
        schemas[name]["additionalProperties"] = False
    edit = schemas["PatchedTodoRequest"]
    schemas["TodoBatchEditRequest"] = {
        **edit,
        "description": "The todo's id and the fields to change, as in a PATCH.",
        "properties": {**edit["properties"], "id": {**ID_SCHEMA, "description": "The todo's id."}},
        "required": ["id"],
    }
    for name in ("TodoListRequest", "PatchedTodoListRequest", "MoveRequest"):
        schemas[name]["additionalProperties"] = False
    for name in ("TodoListRequest", "PatchedTodoListRequest"):
        schemas[name]["properties"]["name"] = NAME_IN
    schemas["LoginRequest"]["properties"]["username"] = {"type": "string", "pattern": _TEXT}
    for operations in result["paths"].values():
        for operation in operations.values():
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True
    return result


def _error(description):
    return OpenApiResponse(ERROR, description=description)


def _bad_request(body_errors, description):
    return OpenApiResponse({"oneOf": [ERROR, body_errors]}, description=description)


RETRY_AFTER = "Seconds to wait before retrying."


def _header(name, description, codes, schema=OpenApiTypes.STR, required=False):
    return OpenApiParameter(
        name,
        schema,
        OpenApiParameter.HEADER,
        description=description,
        response=codes,
        required=required,
    )


# Responses every authenticated endpoint can give.
COMMON = {
    401: _error("No credentials, or an unknown or revoked token."),
    503: _error(
        "The database is busy or unreachable (pool exhausted, wait queue full, statement "
        "timeout). Nothing was written; retry after `Retry-After` seconds."
    ),
}
WRITES = {
    **COMMON,
    403: _error("Session authentication without a valid CSRF token."),
    413: _error("The body is over the size limit (DATA_UPLOAD_MAX_MEMORY_SIZE)."),
    415: _error("The body is not `application/json`."),
    429: _error("Too many writes by this user; retry after `Retry-After` seconds."),
}
RETRY_HEADERS = [_header("Retry-After", RETRY_AFTER, [503], OpenApiTypes.INT, required=True)]
WRITE_RETRY_HEADERS = [
    _header("Retry-After", RETRY_AFTER, [429, 503], OpenApiTypes.INT, required=True)
]
NOT_FOUND = _error("No todo with this id for you (another user's todo does not exist for you).")
LIST_NOT_FOUND = _error(
    "No list with this id for you (another user's list does not exist for you)."
)
PRECONDITION_FAILED = _error("`If-Match` did not match: the todo changed since you read it.")

TODO_ID = OpenApiParameter(
    "id",
    {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    OpenApiParameter.PATH,
    description="The todo's id.",
)
ETAG = _header("ETag", "The todo's version, for `If-Match`.", [200, 201])
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETags of the copies you hold (or `*`): when one is current, 304 and no body.",
)
NOT_MODIFIED = OpenApiResponse(description="Your copy (If-None-Match) is current; no body.")
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="Write only if the todo's current ETag is one of these (or `*`); else 412.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
    OpenApiParameter.HEADER,
    description="A key of your choice (1-255 visible ASCII characters), unique per request. A "
    "retry with the same key and body returns the first response and creates nothing more; "
    "with another body it is 422. Keys belong to you and expire after 24 hours.",
)
REPLAYED = _header(
    "Idempotent-Replayed", "`true` when this is the stored response to an earlier request.", [201]
)
IDEMPOTENCY_KEY_REUSED = _error("This Idempotency-Key was used with a different request.")

ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
LIST_ID = OpenApiParameter("id", ID_SCHEMA, OpenApiParameter.PATH, description="The list's id.")

LIST_FILTERS = [
    OpenApiParameter(
        "q",
        {"type": "string", "minLength": 1, "maxLength": 200, "pattern": _TEXT},
        description="Search: only todos where each word (split at white space) starts a word "
        'of the title or the description, ignoring case (`mil` finds "Buy milk"); at least '
        "one word has a letter or digit. Combines with every filter and order.",
    ),
    OpenApiParameter("list", ID_SCHEMA, description="Only the todos of this list of yours."),
    OpenApiParameter(
        "parent",
        {"oneOf": [ID_SCHEMA, {"type": "string", "enum": ["none"]}]},
        description="Only the subtasks of this todo, or (`none`) only todos that are no subtask.",
    ),
    OpenApiParameter(
        "order",
        {"type": "string", "enum": ["newest", "due", "position"], "default": "newest"},
        description="`newest` first, by `due` date (undated last), or in manual order "
        "(`position`: needs `list` and `parent`).",
    ),
    OpenApiParameter("completed", bool, description="Only done (`true`) or open (`false`) todos."),
    OpenApiParameter("priority", str, enum=["low", "medium", "high"]),
    OpenApiParameter("due_before", OpenApiTypes.DATE, description="Due strictly before this date."),
    OpenApiParameter("due_after", OpenApiTypes.DATE, description="Due strictly after this date."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        description="Todos per page, 1-100.",
    ),
    OpenApiParameter(
        "cursor",
        {"type": "string", "minLength": 1},
        description="Opaque; take it from a page's `next` or `previous` link.",
    ),
]


class TodoPage(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null.")
    results = TodoSerializer(many=True)


class SyncPage(serializers.Serializer):
    lists = TodoListSerializer(many=True, help_text="Lists created or changed (open counts too).")
    todos = TodoSerializer(many=True, help_text="Todos created or changed, in their latest state.")
    deleted_lists = serializers.ListField(child=serializers.IntegerField())
    deleted_todos = serializers.ListField(child=serializers.IntegerField())
    token = serializers.CharField(help_text="Opaque: send it as `token` in your next sync.")
    more = serializers.BooleanField(help_text="More changes wait: sync again with `token` now.")


class Login(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class Token(serializers.Serializer):
    token = serializers.CharField()


class _PoolBounds(serializers.Serializer):
    min_size = serializers.IntegerField()
    max_size = serializers.IntegerField()
    timeout = serializers.FloatField()
    max_waiting = serializers.IntegerField()
    max_lifetime = serializers.FloatField()


class _PoolConnections(serializers.Serializer):
    size = serializers.IntegerField()
    in_use = serializers.IntegerField()
    idle = serializers.IntegerField()


# One integer per counter that pool_status reports.
_PoolCounters = type(
    "_PoolCounters",
    (serializers.Serializer,),
    {name: serializers.IntegerField() for name in COUNTERS},
)


class _ServerLimits(serializers.Serializer):
    max_connections = serializers.IntegerField()
    reserved_connections = serializers.IntegerField()
    available_connections = serializers.IntegerField()
    current_connections = serializers.IntegerField()
    workers = serializers.IntegerField()
    pools = serializers.DictField(
        child=serializers.IntegerField(), help_text="Each pool's max size, by its setting."
    )
    connections_per_worker = serializers.IntegerField()
    workers_x_connections_per_worker = serializers.IntegerField()
    connection_budget = serializers.IntegerField()
    connection_budget_source = serializers.CharField()
    pgbouncer = serializers.BooleanField()


class _Pool(serializers.Serializer):
    pool = _PoolBounds()
    connections = _PoolConnections()
    requests_waiting = serializers.IntegerField()
    counters = _PoolCounters()


class PoolStatus(_Pool):
    pid = serializers.IntegerField(help_text="The worker process that answered.")
    api_pool = _Pool(
        allow_null=True,
        help_text="The API fast lane's pool; null until this worker's lane has opened it.",
    )
    server = _ServerLimits()


issue_token = dict(
    operation_id="auth_token_create",
    summary="Get your API token",
    description="Username and password in, your token out (the same token until you revoke "
    "it). Failed logins per username and address are bounded: past the bound, 429.",
    auth=[],
    request=Login,
    responses={
        200: Token,
        400: _bad_request(FIELD_ERRORS, "Missing or malformed fields."),
        401: _error("Wrong username or password."),
        413: WRITES[413],
        415: WRITES[415],
        429: _error("Too many failed logins for this username from this address."),
        503: COMMON[503],
    },
    parameters=WRITE_RETRY_HEADERS,
)

revoke_token = dict(
    operation_id="auth_token_destroy",
    summary="Revoke your API token",
    description="The token this request carries stops working at once. Token authentication "
    "only; a later POST issues a new token.",
    request=None,
    responses={204: None, **COMMON},
    parameters=RETRY_HEADERS,
)

list_todos = dict(
    operation_id="todo_list",
    summary="Your todos, newest first (or by due date, or in manual order)",
    parameters=[*LIST_FILTERS, *RETRY_HEADERS],
    responses={
        200: TodoPage,
        400: _bad_request(
            FIELD_ERRORS,
            "A bad filter, `q`, `page_size` or `cursor` (a cursor of another order included), "
            "or order=position without `list` and `parent`.",
        ),
        **COMMON,
    },
)

sync = dict(
    operation_id="sync",
    summary="Everything of yours changed since a sync token (all of it without one)",
    description="At most 1000 objects a page; with `more`, call again with the page's "
    "`token`. Without a token (a full sync) the pages hold all your lists and todos and no "
    "deletes: replace your copy with them. Apply every page and your copy ends with exactly "
    "the server's state, whatever the order in which concurrent writes commit (docs/sync.md).",
    parameters=[
        OpenApiParameter(
            "token",
            {"type": "string", "pattern": "^[0-9.~]+$"},
            description="Opaque: the `token` of your last sync's last page (or of the page "
            "before, when it said `more`).",
        ),
        *RETRY_HEADERS,
    ],
    responses={
        200: SyncPage,
        400: _bad_request(
            FIELD_ERRORS, "Not a sync token of this server, or given twice: sync without one."
        ),
        410: _error(
            "The token is older than the oldest delete the server remembers "
            "(SYNC_TOMBSTONE_DAYS): sync without a token."
        ),
        **COMMON,
    },
)

events = dict(
    operation_id="events",
    summary="Your changes as they happen (Server-Sent Events)",
    description="A `text/event-stream`: events `todo` and `list` (data: the object, as the "
    'other endpoints give it), `todo_deleted` and `list_deleted` (data: `{"id": n}`); the '
    "last event of each page of the sync feed carries its sync token as `id`. Reconnect with "
    "`Last-Event-ID` (an EventSource does) and nothing is missed or sent twice. A `:` comment "
    "every 15 s. When the stream cannot be served (Redis, the change listener or the database "
    "unavailable, the server restarting) it is a 200 that sends `retry: <ms>` and ends. Under "
    'WSGI, 204: no stream (docs/sync.md, "Events").',
    parameters=[
        OpenApiParameter(
            "Last-Event-ID",
            {"type": "string", "minLength": 1},
            OpenApiParameter.HEADER,
            description="The `id` of the last event you received: the stream resumes after it.",
        ),
        OpenApiParameter(
            "last_event_id",
            {"type": "string", "minLength": 1},
            description="The same, for a client that cannot send the header (the header wins).",
        ),
        _header("Retry-After", RETRY_AFTER, [429], OpenApiTypes.INT, required=True),
    ],
    responses={
        (200, "text/event-stream"): OpenApiResponse(
            OpenApiTypes.STR, description="The stream, until the client or the server ends it."
        ),
        204: OpenApiResponse(description="Served under WSGI: no stream (an EventSource stops)."),
        400: _bad_request(FIELD_ERRORS, "`Last-Event-ID` is not a sync token of this server."),
        401: COMMON[401],
        410: _error("`Last-Event-ID` is older than the deletes the server remembers."),
        429: _error(
            "Too many streams open for this user (EVENTS_MAX_STREAMS_PER_USER); retry after "
            "`Retry-After` seconds."
        ),
    },
)

create_todo = dict(
    operation_id="todo_create",
    summary="Create a todo",
    description="First in its list (your Inbox unless `list` says otherwise), or first among "
    "the subtasks of `parent` (a todo of yours that is no subtask, in the same list).",
    request=TodoSerializer,
    parameters=[
        IDEMPOTENCY_KEY,
        _header("Location", "The new todo's URL.", [201], required=True),
        ETAG,
        REPLAYED,
        *WRITE_RETRY_HEADERS,
    ],
    responses={
        201: TodoSerializer,
        400: _bad_request(
            FIELD_ERRORS, "Malformed JSON, invalid fields, or a list or parent not yours."
        ),
        422: IDEMPOTENCY_KEY_REUSED,
        **WRITES,
    },
)

bulk_create_todos = dict(
    operation_id="todo_bulk_create",
    summary="Create 1-1000 todos at once",
    description="Validated all or nothing (errors name the failing item's position), inserted "
    "in one statement; the created todos in input order.",
    request={
        "application/json": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/TodoRequest"},
            "minItems": 1,
            "maxItems": 1000,
        }
    },
    parameters=[IDEMPOTENCY_KEY, REPLAYED, *WRITE_RETRY_HEADERS],
    responses={
        201: TodoSerializer(many=True),
        400: _bad_request(BULK_ERRORS, "Malformed JSON, not a list of 1-1000, or invalid items."),
        422: IDEMPOTENCY_KEY_REUSED,
        **WRITES,
    },
)

bulk_update_todos = dict(
    operation_id="todo_bulk_partial_update",
    summary="Change 1-1000 todos at once",
    description="Each item is a todo's id and the fields to change, as in a PATCH. All or "
    "nothing: an id that is not yours, or is given twice, fails the batch with the item's "
    'position (`{"3": {"id": [...]}}`) and nothing is written. One statement; '
    "completing a todo completes its open subtasks. The todos in input order.",
    request={
        "application/json": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/TodoBatchEditRequest"},
            "minItems": 1,
            "maxItems": 1000,
        }
    },
    parameters=[IDEMPOTENCY_KEY, REPLAYED, *WRITE_RETRY_HEADERS],
    responses={
        200: TodoSerializer(many=True),
        400: _bad_request(
            BULK_ERRORS,
            "Malformed JSON, not a list of 1-1000, invalid items, an id that is not yours or "
            "is repeated, or a list or parent changed (only a move changes them).",
        ),
        422: IDEMPOTENCY_KEY_REUSED,
        **WRITES,
    },
)

bulk_delete_todos = dict(
    operation_id="todo_bulk_destroy",
    summary="Delete 1-1000 todos at once (and their subtasks)",
    description="All or nothing: an id that is not yours fails the batch with its position "
    '(`{"ids": {"3": [...]}}`) and nothing is deleted. One statement.',
    request={
        "application/json": {
            "type": "object",
            "properties": {
                "ids": {
                    "type": "array",
                    "items": ID_SCHEMA,
                    "minItems": 1,
                    "maxItems": 1000,
                    "uniqueItems": True,
                }
            },
            "required": ["ids"],
            "additionalProperties": False,
        }
    },
    parameters=[
        IDEMPOTENCY_KEY,
        _header(
            "Idempotent-Replayed",
            "`true` when this is the stored response to an earlier request.",
            [204],
        ),
        *WRITE_RETRY_HEADERS,
    ],
    responses={
        204: None,
        400: _bad_request(
            IDS_ERRORS, "Malformed JSON, not 1-1000 ids, or an id that is not yours or repeated."
        ),
        422: IDEMPOTENCY_KEY_REUSED,
        **WRITES,
    },
)

get_todo = dict(
    operation_id="todo_retrieve",
    summary="One todo",
    parameters=[
        TODO_ID,
        IF_NONE_MATCH,
        _header("ETag", "The todo's version, for `If-Match` and `If-None-Match`.", [200, 304]),
        *RETRY_HEADERS,
    ],
    responses={200: TodoSerializer, 304: NOT_MODIFIED, 404: NOT_FOUND, **COMMON},
)

replace_todo = dict(
    operation_id="todo_update",
    summary="Replace a todo",
    description="Omitted fields go back to their defaults. `list` and `parent` change only by "
    "a move: sent as they are, they are ignored; changed, 400. Completing a todo completes its "
    "open subtasks.",
    request=TodoSerializer,
    parameters=[TODO_ID, IF_MATCH, ETAG, *WRITE_RETRY_HEADERS],
    responses={
        200: TodoSerializer,
        400: _bad_request(FIELD_ERRORS, "Malformed JSON, or invalid fields."),
        404: NOT_FOUND,
        412: PRECONDITION_FAILED,
        **WRITES,
    },
)

update_todo = dict(replace_todo, operation_id="todo_partial_update", summary="Change some fields")
update_todo["description"] = (
    "Only the given fields change. `list` and `parent` change only by a move: sent as they "
    "are, they are ignored; changed, 400. Completing a todo completes its open subtasks."
)

delete_todo = dict(
    operation_id="todo_destroy",
    summary="Delete a todo (and its subtasks)",
    parameters=[TODO_ID, IF_MATCH, *WRITE_RETRY_HEADERS],
    responses={
        204: None,
        404: NOT_FOUND,
        412: PRECONDITION_FAILED,
        **{code: WRITES[code] for code in (401, 403, 429, 503)},
    },
)

move_todo = dict(
    operation_id="todo_move",
    summary="Move a todo",
    description="Put it after the sibling `after` (default: first) among the subtasks of "
    "`parent` (default: at the top) of `list` (default: its list, or the parent's); its "
    "subtasks go with it. Only the moved todos are written.",
    request=MoveSerializer,
    parameters=[TODO_ID, ETAG, *WRITE_RETRY_HEADERS],
    responses={
        200: TodoSerializer,
        400: _bad_request(
            FIELD_ERRORS,
            "Malformed JSON, or a list, parent or `after` that is not yours or does not fit.",
        ),
        404: NOT_FOUND,
        **WRITES,
    },
)

list_lists = dict(
    operation_id="lists_list",
    summary="Your lists, Inbox first, then by name",
    parameters=RETRY_HEADERS,
    responses={200: TodoListSerializer(many=True), **COMMON},
)

create_list = dict(
    operation_id="lists_create",
    summary="Create a list",
    request=TodoListSerializer,
    parameters=[
        _header("Location", "The new list's URL.", [201], required=True),
        *WRITE_RETRY_HEADERS,
    ],
    responses={
        201: TodoListSerializer,
        400: _bad_request(FIELD_ERRORS, "Malformed JSON, an invalid name, or one you use."),
        **WRITES,
    },
)

get_list = dict(
    operation_id="lists_retrieve",
    summary="One list",
    parameters=[LIST_ID, *RETRY_HEADERS],
    responses={200: TodoListSerializer, 404: LIST_NOT_FOUND, **COMMON},
)

update_list = dict(
    operation_id="lists_partial_update",
    summary="Rename a list",
    request=TodoListSerializer,
    parameters=[LIST_ID, *WRITE_RETRY_HEADERS],
    responses={
        200: TodoListSerializer,
        400: _bad_request(FIELD_ERRORS, "Malformed JSON, an invalid name, or one you use."),
        404: LIST_NOT_FOUND,
        **WRITES,
    },
)

delete_list = dict(
    operation_id="lists_destroy",
    summary="Delete a list and its todos",
    parameters=[LIST_ID, *WRITE_RETRY_HEADERS],
    responses={
        204: None,
        404: LIST_NOT_FOUND,
        409: _error("The Inbox cannot be deleted."),
        **{code: WRITES[code] for code in (401, 403, 429, 503)},
    },
)

pool_status = dict(
    operation_id="debug_pool_status",
    summary="This worker's connection pool (staff only)",
    parameters=RETRY_HEADERS,
    responses={200: PoolStatus, 403: _error("You are not staff."), **COMMON},
)
