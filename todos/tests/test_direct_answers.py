"""The fast lane's direct answers (todos.api.direct) against Django's full handler and DRF's views:
the same calls, made once through each on a live server, get the same status, headers and body
(ids, timestamps, ETags and cursors, which differ from one run to the next, set aside)."""

import re

import pytest
import requests

from conftest import PASSWORD, make_user
from todos.api import direct

pytestmark = pytest.mark.django_db(transaction=True)

DIFFERS_PER_RUN = [
    (re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z"), "<time>"),
    (re.compile(r'"\d+-\d+"'), "<etag>"),
    (re.compile(r"cursor=[\w%-]+"), "cursor=<cursor>"),
    (re.compile(r"/api/todo/\d+"), "/api/todo/<id>"),
    (re.compile(r'"id":\d+'), '"id":<id>'),
]
JSON = "application/json"


@pytest.fixture
def answered_directly(monkeypatch):
    """How many calls todos.api.direct answered (rather than handing them to the DRF view)."""
    count = {"direct": 0}
    answer = direct.answer

    async def counted(*args):
        result = await answer(*args)
        count["direct"] += result is not None
        return result

    monkeypatch.setattr(direct, "answer", counted)
    return count


def through(live, settings, *, fast_lane, calls, username):
    """Each call's (status, headers, body) with what differs per run replaced."""
    settings.API_FAST_LANE = fast_lane
    user, other = make_user(username), make_user(f"{username}-other")
    session = requests.Session()
    tokens = {}
    for who in (user, other):
        tokens[who] = requests.post(
            f"{live.url}/api/auth/token",
            json={"username": who.username, "password": PASSWORD},
        ).json()["token"]
    state = {}
    answers = []
    for method, path, body, content_type, *options in calls:
        who = other if "as-other" in options else user
        token = "nope" if "bad-token" in options else tokens[who]
        headers = {"Authorization": f"Token {token}"}
        if content_type:
            headers["Content-Type"] = content_type
        response = session.request(
            method,
            live.url + path.format(**state),
            data=body.encode() if body is not None else None,
            headers=headers,
        )
        if path == "/api/todo" and response.status_code == 201:
            state["other" if who is other else "id"] = response.json()["id"]
        if response.headers.get("Content-Type") == JSON and '"next":"http' in response.text:
            state["next"] = response.json()["next"].removeprefix(live.url)
        answers.append(_comparable(response))
    return answers


def _comparable(response):
    headers = {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in ("date", "server", "content-length")  # ids vary in length
    }
    text = response.text
    if "retry-after" in headers:  # seconds left in the window, also said in the body
        headers["retry-after"] = "<seconds>"
        text = re.sub(r"available in \d+ seconds", "available in <n> seconds", text)
    for header in ("etag", "location"):
        if header in headers:
            headers[header] = _same_per_run(headers[header])
    return response.status_code, headers, _same_per_run(text)


def _same_per_run(text):
    for pattern, replacement in DIFFERS_PER_RUN:
        text = pattern.sub(replacement, text)
    return text


CRUD = [
    ("POST", "/api/todo", '{"title": "one", "priority": "high"}', JSON),
    ("POST", "/api/todo", '{"title": "two", "due_date": "2027-01-31"}', JSON),
    ("POST", "/api/todo", '{"title": "theirs"}', JSON, "as-other"),
    ("GET", "/api/todo/{id}", None, None),
    ("GET", "/api/todo?page_size=1", None, None),
    ("GET", "{next}", None, None),
    ("GET", "/api/todo?priority=high&completed=false", None, None),
    ("PUT", "/api/todo/{id}", '{"title": "two, again", "completed": true}', JSON),
    ("PATCH", "/api/todo/{id}", '{"completed": false, "description": "\u00e9t\u00e9"}', JSON),
    ("GET", "/api/todo/{other}", None, None),
    ("PUT", "/api/todo/{other}", '{"title": "mine now"}', JSON),
    ("DELETE", "/api/todo/{other}", None, None),
    ("DELETE", "/api/todo/{id}", None, None),
    ("DELETE", "/api/todo/{id}", None, None),
    ("GET", "/api/todo/{id}", None, None),
    # Errors the direct answers give themselves
    ("POST", "/api/todo", '{"title": "", "priority": "urgent", "due_date": "2027-02-30"}', JSON),
    ("POST", "/api/todo", '{"title": "x", "completed": 0}', JSON),
    ("POST", "/api/todo", '{"title": "x"', JSON),
    ("POST", "/api/todo", '[{"title": "x"}]', JSON),
    ("POST", "/api/todo", '{"title": "nul \\u0000"}', JSON),
    ("POST", "/api/todo", '{"title": "lone \\ud800"}', JSON),
    ("PATCH", "/api/todo/{other}", '{"due_date": "10000-01-01"}', JSON),
    ("GET", "/api/todo?completed=maybe", None, None),
    ("GET", "/api/todo?page_size=0", None, None),
    ("GET", "/api/todo?cursor=garbage", None, None),
    ("GET", "/api/todo?priority=low&priority=high", None, None),
    ("POST", "/api/todo/bulk", '[{"title": "b1"}, {"title": "b2", "priority": "low"}]', JSON),
    ("POST", "/api/todo/bulk", '[{"title": "fine"}, {"title": "", "completed": 0}]', JSON),
    ("POST", "/api/todo/bulk", "[]", JSON),
    ("POST", "/api/todo/bulk", '{"title": "not a list"}', JSON),
    # Calls handed to the DRF view
    ("POST", "/api/todo", '{"title": "x"}', "text/plain"),
    ("POST", "/api/todo", "", JSON),
    ("POST", "/api/todo", '{"title": "x"}', "application/json; charset=utf-8"),
    ("GET", "/api/todo/0", None, None),
    ("GET", "/api/todo/9223372036854775808", None, None),
    ("GET", "/api/todo", None, None, "bad-token"),
    ("GET", "/api/todo/bulk", None, None),
]
HANDED_ON = 7


def test_direct_answers_are_the_answers_of_the_full_stack(live_asgi, settings, answered_directly):
    full = through(live_asgi, settings, fast_lane=False, calls=CRUD, username="full")
    assert answered_directly["direct"] == 0
    lane = through(live_asgi, settings, fast_lane=True, calls=CRUD, username="lane")
    assert answered_directly["direct"] == len(CRUD) - HANDED_ON
    for call, full_answer, lane_answer in zip(CRUD, full, lane, strict=True):
        assert lane_answer == full_answer, call
    assert [status for status, _, _ in full] == [
        *(201, 201, 201, 200, 200, 200, 200, 200, 200, 404, 404, 404, 204, 404, 404),
        *(400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 201, 400, 400, 400),
        *(415, 400, 201, 404, 404, 401, 405),
    ]


def test_writes_count_against_the_limit_once_invalid_ones_included(
    live_asgi, settings, answered_directly
):
    settings.THROTTLE_WRITES = "3/hour"
    calls = [
        ("POST", "/api/todo", '{"title": "one"}', JSON),
        ("POST", "/api/todo", '{"title": ""}', JSON),
        ("DELETE", "/api/todo/{id}", None, None),
        ("POST", "/api/todo", '{"title": "four"}', JSON),
        ("GET", "/api/todo", None, None),
    ]
    full = through(live_asgi, settings, fast_lane=False, calls=calls, username="full")
    lane = through(live_asgi, settings, fast_lane=True, calls=calls, username="lane")
    assert [status for status, _, _ in lane] == [201, 400, 204, 429, 200]
    assert lane == full
    assert answered_directly["direct"] == len(calls)


def test_bulk_creates_on_the_lane_give_djangos_connection_back(live_asgi, settings):
    """abulk_create runs on Django's pooled connection: the lane returns it after each call."""
    from django.db import connection

    settings.API_FAST_LANE = True
    token = requests.post(
        f"{live_asgi.url}/api/auth/token",
        json={"username": make_user("bulky").username, "password": PASSWORD},
    ).json()["token"]

    for n in range(5):
        response = requests.post(
            f"{live_asgi.url}/api/todo/bulk",
            json=[{"title": f"bulk {n}-{i}"} for i in range(3)],
            headers={"Authorization": f"Token {token}"},
        )
        assert response.status_code == 201
    connection.close()  # this test's own: back to the pool
    stats = connection.pool.get_stats()
    assert stats["pool_size"] - stats["pool_available"] == 0  # nobody holds one
