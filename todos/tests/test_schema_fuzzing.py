"""Schema-driven fuzzing: schemathesis generates valid and invalid requests for every operation
of /api/schema/ and sends them with a token through each door: the project's WSGI application
(Django's handler, the DRF views) and a live uvicorn serving the ASGI application, where the
token calls the lane takes are answered by the fast lane. No answer may be a 5xx, and every
answer must conform to the schema: documented status, content type, headers and body."""

import os
import re
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.transport.requests import REQUESTS_TRANSPORT

from conftest import make_user
from todoproject.wsgi import application
from todos.services import create_todo

# Kept small and the same every run for the suite (CI must not fail on a new random draw);
# FUZZ_EXAMPLES=500 FUZZ_RANDOM=1 explores further.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "100"))
DETERMINISTIC = not os.environ.get("FUZZ_RANDOM")
DATA_CHECKS = [positive_data_acceptance, negative_data_rejection]
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


# Loaded at collection (the schema view needs no database). schemathesis' lazy fixture loader
# reads `Function._nodeid`, which pytest 9 no longer has.
# GET /api/events is a stream that does not end: test_events.py tests it instead.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).exclude(
    path="/api/events"
)
# No NUL characters in generated data: the API refuses NUL anywhere in a body, also in names of
# fields it ignores, which OpenAPI 3.0 cannot express; test_hostile_input covers NUL instead.
schema.config.generation.update(
    max_examples=EXAMPLES_PER_OPERATION, allow_x00=False, deterministic=DETERMINISTIC
)


@pytest.fixture
def fuzzer():
    """A staff user (so the pool-status operation is reachable) with a few todos, whose ids the
    generated paths point at half the time."""
    user = make_user("fuzzer", is_staff=True)
    todos = [create_todo(owner=user, title=f"todo {i}") for i in range(3)]
    return {
        "headers": {"Authorization": f"Token {Token.objects.create(user=user).key}"},
        "ids": [todo.pk for todo in todos],
    }


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["wsgi", "asgi"])
def send(request):
    """How a case is sent: to the WSGI application in-process, or over HTTP to the live ASGI
    server (fast lane included)."""
    if request.param == "wsgi":
        return lambda case, headers: case.call(headers=headers)
    live = request.getfixturevalue("live_asgi")
    return lambda case, headers: REQUESTS_TRANSPORT.send(case, base_url=live.url, headers=headers)


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(case, fuzzer, send):
    pk = (case.path_parameters or {}).get("id")
    if isinstance(pk, int) and pk % 2 == 0:
        case.path_parameters["id"] = fuzzer["ids"][pk % 3]
    if isinstance(case.body, list):  # a batch edit: half its ids the fuzzer's own todos
        for item in case.body:
            pk = item.get("id") if isinstance(item, dict) else None
            if type(pk) is int and 2 <= pk < 2**63 and pk % 2 == 0:  # valid ids stay valid
                item["id"] = fuzzer["ids"][pk % 3]
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.match(key):
        # Generated keys repeat across cases with other bodies, which is a 422 by design
        # (test_idempotency covers it); make valid keys unique to fuzz everything else.
        case.headers["Idempotency-Key"] = f"{uuid.uuid4().hex}{key}"[:255]
    response = send(case, fuzzer["headers"])
    excluded = DATA_CHECKS if designed_rejection(case, response) else []
    case.validate_response(response, headers=fuzzer["headers"], excluded_checks=excluded)


# 400s that depend on what the database holds, or on rules between fields that OpenAPI 3.0
# cannot state (each has its own tests).
STATE_DEPENDENT = {
    ("cursor", "Invalid cursor."),
    ("token", "Not a sync token of this server."),
    ("list", "No list with this id."),
    ("parent", "No todo with this id."),
    ("parent", "A subtask cannot have subtasks."),
    ("parent", "This todo is in another list."),
    ("parent", "A todo cannot be its own parent."),
    ("parent", "A todo with subtasks cannot become a subtask."),
    ("after", "No todo with this id in the place moved to."),
    ("name", "You already have a list with this name."),
    ("list", "Set on create; change it with POST /api/todo/<id>/move."),
    ("parent", "Set on create; change it with POST /api/todo/<id>/move."),
    ("order", "order=position needs the list and parent filters."),
    # A date string's range (1900-2200): OpenAPI 3.0 has no bounds for format: date.
    ("due_date", "Due dates go from 1900 to 2200."),
    ("id", "No todo with this id."),
    ("id", "This todo is in the batch already (item N)."),
    ("ids", "No todo with this id."),
    ("q", "Give at least one word (letters or digits) to search for."),
}
ITEM_NUMBER = re.compile(r"\(item \d+\)")


def designed_rejection(case, response):
    """Answers that depend on state rather than on the request's shape: an If-Match that is
    not the todo's ETag (412, decided before the body is read, as RFC 9110 asks); a well-formed
    cursor that no `next`/`previous` link gave out, or a sync token that no sync did (400: the
    schema cannot say which opaque strings the server issued); a list, parent or sibling that is not yours or does not fit; a
    list name you use; order=position without its filters."""
    body = response.json() if response.content else {}
    if "If-Match" in (case.headers or {}) and response.status_code == 412:
        return True
    return response.status_code == 400 and _state_dependent(body)


def _state_dependent(errors):
    """Every message is one of STATE_DEPENDENT (a bulk's by item: {"3": {"list": [...]}}, a
    batch delete's by position: {"ids": {"3": [...]}})."""
    if not isinstance(errors, dict) or not errors:
        return False
    return all(
        _state_dependent(messages)
        if name.isdigit()
        else _state_dependent({name: [m for each in messages.values() for m in each]})
        if isinstance(messages, dict) and all(map(str.isdigit, messages))
        else isinstance(messages, list)
        and {(name, ITEM_NUMBER.sub("(item N)", m)) for m in messages} <= STATE_DEPENDENT
        for name, messages in errors.items()
    )
