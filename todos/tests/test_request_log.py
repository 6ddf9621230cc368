"""One JSON log line per request, and the request's id on each of its lines and in its response;
no secret in any of them."""

import datetime as dt
import json
import logging
import re

import pytest
import requests

from conftest import PASSWORD
from todos.request_log import JsonLines, RequestContext, RequestRecord, TextLines, current

pytestmark = pytest.mark.django_db
live_only = pytest.mark.parametrize("api_transport", ["live"])
committed = pytest.mark.django_db(transaction=True)  # the live server sees the test's data

FIELDS = {"time", "level", "logger", "message", "pid", "request_id", "user_id"}
REQUEST_FIELDS = FIELDS | {"method", "route", "status", "duration_seconds"}


def lines_of(log_lines, request_id):
    parsed = [json.loads(line) for line in log_lines]
    return [line for line in parsed if line["request_id"] == request_id]


@live_only
def test_a_request_is_one_json_line_with_its_id_its_user_and_its_route(
    alice, alice_api, live_asgi, log_lines
):
    todo = alice_api.post("/api/todo", {"title": "log me"}, format="json").json()

    response = alice_api.get(f"/api/todo/{todo['id']}", HTTP_X_REQUEST_ID="trace-42/a:b")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "trace-42/a:b"
    [line] = lines_of(log_lines, "trace-42/a:b")
    assert set(line) == REQUEST_FIELDS
    assert line["logger"] == "todos.requests"
    assert line["method"] == "GET"
    assert line["route"] == "api/todo/<todo_id:pk>"
    assert line["status"] == 200
    assert line["user_id"] == alice.pk
    assert 0 < line["duration_seconds"] < 30
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", line["time"])


@pytest.mark.parametrize("sent", ["", "has space", "x" * 201, "caf\u00e9", "tab\there"], ids=repr)
@committed
def test_an_insane_request_id_is_replaced_by_one_of_ours(live_asgi, log_lines, sent):
    response = requests.get(
        f"{live_asgi.url}/healthz", headers={"X-Request-ID": sent.encode()}, timeout=10
    )
    made = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    [line] = lines_of(log_lines, made)
    assert line["route"] == "healthz"


@committed
def test_every_line_of_a_request_carries_its_id(live_asgi, log_lines):
    response = requests.get(
        f"{live_asgi.url}/api/todo", headers={"X-Request-ID": "no-credentials"}, timeout=10
    )
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "no-credentials"
    lines = lines_of(log_lines, "no-credentials")
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("django.request", "WARNING"),  # Django's "Unauthorized: /api/todo"
        ("todos.requests", "INFO"),
    ]


@committed
def test_logins_tokens_and_sessions_leave_no_secret_in_the_logs(alice, live_asgi, log_lines):
    # The API's login, a token call, the login page and a session call, all logged...
    login = requests.post(
        f"{live_asgi.url}/api/auth/token",
        json={"username": "alice", "password": PASSWORD},
        headers={"X-Request-ID": "api-login"},
        timeout=10,
    )
    token = login.json()["token"]
    headers = {"Authorization": f"Token {token}", "X-Request-ID": "token-call"}
    assert requests.get(f"{live_asgi.url}/api/todo", headers=headers, timeout=10).ok
    browser = requests.Session()
    browser.get(f"{live_asgi.url}/accounts/login/", timeout=10)
    page_login = browser.post(
        f"{live_asgi.url}/accounts/login/",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"X-Request-ID": "page-login", "Referer": f"{live_asgi.url}/accounts/login/"},
        timeout=10,
        allow_redirects=False,
    )
    assert page_login.status_code == 302
    session_key = browser.cookies["sessionid"]
    assert browser.get(f"{live_asgi.url}/api/todo", headers={"X-Request-ID": "session-call"}).ok

    logged = {rid: lines_of(log_lines, rid) for rid in ("api-login", "token-call", "session-call")}
    assert all(len(lines) == 1 for lines in logged.values())
    assert {rid: lines[0]["user_id"] for rid, lines in logged.items()} == dict.fromkeys(
        logged, alice.pk
    )
    # ...and none of their lines holds the password, the token, a cookie or a body.
    text = "\n".join(log_lines)
    for secret in (PASSWORD, token, session_key, browser.cookies["csrftoken"], '"password"'):
        assert secret not in text


def test_log_format_text_is_one_readable_line_with_the_request_id():
    context = RequestContext("abc123")
    token = current.set(context)
    try:
        record = logging.getLogger("todos.x").makeRecord(
            "todos.x", logging.WARNING, __file__, 1, "odd %s", ("x",), None
        )
    finally:
        current.reset(token)
    context.user_id = 7
    request = RequestRecord("GET api/todo 200", "GET", "api/todo", 200, 0.0029, context)

    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(
        rf"{stamp} WARNING todos\.x pid=\d+ request=abc123 user=None odd x",
        TextLines().format(record),
    )
    assert re.fullmatch(
        rf"{stamp} INFO todos\.requests pid=\d+ request=abc123 user=7 GET api/todo 200 2\.9 ms",
        TextLines().format(request),
    )


def test_an_extra_that_orjson_refuses_still_makes_one_json_line():
    record = logging.LogRecord("todos", logging.WARNING, __file__, 1, "odd", (), None)
    record.big = 2**70  # past 64 bits: orjson refuses it, json.dumps takes it
    record.keyed = {1: "one"}
    [line] = JsonLines().format(record).splitlines()
    assert json.loads(line)["big"] == 2**70
    assert json.loads(line)["keyed"] == {"1": "one"}


@pytest.mark.parametrize("user_id", [7, None])
def test_a_request_line_is_written_by_hand_as_the_general_way_would_write_it(user_id):
    context = RequestContext('odd"id\\with\u00e9')
    context.user_id = user_id
    record = RequestRecord("GET api/todo 200", "GET", "api/todo", 200, 0.0029291, context)

    line = JsonLines().format(record)
    general = json.loads(JsonLines().format(logging.makeLogRecord(vars(record))))

    assert json.loads(line) == {**general, "duration_seconds": 0.002929}
    assert set(general) == REQUEST_FIELDS
    assert general["request_id"] == 'odd"id\\with\u00e9'
    assert general["user_id"] == user_id
    assert abs(dt.datetime.fromisoformat(general["time"]).timestamp() - record.created) < 1e-5


def test_a_request_line_with_a_user_id_it_cannot_write_by_hand_goes_the_general_way():
    context = RequestContext("r-1")
    context.user_id = "u7"
    record = RequestRecord("GET api/todo 200", "GET", "api/todo", 200, 0.0029, context)

    line = json.loads(JsonLines().format(record))

    assert set(line) == REQUEST_FIELDS
    assert (line["user_id"], line["route"], line["duration_seconds"]) == ("u7", "api/todo", 0.0029)
