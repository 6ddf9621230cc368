"""Every API call answers the same whichever door it comes in by: with a token (on the fast lane,
or through Django's full handler when the lane is off) and with a logged-in session and its CSRF
token (always Django's full handler and DRF's views). The same calls are made on a live server
through each door and compared: status, headers and body (ids, timestamps, ETags, cursors and
the seconds left in a throttle window, which differ from one run to the next, set aside)."""

import re

import pytest
import requests

from conftest import PASSWORD, make_user
from todos.api import fastlane
from todos.tests.dbtools import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DIFFERS_PER_RUN = [
    (re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z"), "<time>"),
    (re.compile(r'"\d+-\d+"'), "<etag>"),
    (re.compile(r"cursor=[\w%-]+"), "cursor=<cursor>"),
    (re.compile(r"/api/todo/\d+"), "/api/todo/<id>"),
    (re.compile(r"/api/lists/\d+"), "/api/lists/<id>"),
    (re.compile(r'"(id|list|parent)":\d+'), r'"\1":<id>'),
    (re.compile(r'"position":"\w+"'), '"position":"<position>"'),
    (re.compile(r"\b(list|parent)=\d+"), r"\1=<id>"),
    (re.compile(r"available in \d+ seconds?"), "available in <seconds>"),
]
JSON = "application/json"
# Headers about the door itself: the session door's Vary: Cookie and cookie refreshes.
DOOR_HEADERS = ("date", "server", "content-length", "vary", "set-cookie")


@pytest.fixture
def routed(monkeypatch):
    """How many requests the fast lane took (rather than handing them to Django)."""
    count = {"lane": 0}
    route = fastlane.route

    def counted(scope):
        result = route(scope)
        count["lane"] += result is not None
        return result

    monkeypatch.setattr(fastlane, "route", counted)
    return count


class TokenDoor:
    def __init__(self, live, user):
        self.session = requests.Session()
        token = self.session.post(
            f"{live.url}/api/auth/token", json={"username": user.username, "password": PASSWORD}
        ).json()["token"]
        self.headers = {"Authorization": f"Token {token}"}

    def request(self, method, url, *, body, content_type, bad_credentials=False):
        headers = {"Authorization": "Token nope"} if bad_credentials else dict(self.headers)
        if content_type:
            headers["Content-Type"] = content_type
        return self.session.request(method, url, data=body, headers=headers)


class SessionDoor:
    """Logged in through the login page; writes carry the CSRF token, as a page's script would."""

    def __init__(self, live, user):
        self.session = requests.Session()
        login = f"{live.url}/accounts/login/"
        self.session.get(login)
        answer = self.session.post(
            login,
            data={
                "username": user.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
            },
            headers={"Referer": login},
            allow_redirects=False,
        )
        assert answer.status_code == 302, answer.text

    def request(self, method, url, *, body, content_type, bad_credentials=False):
        headers = {"X-CSRFToken": self.session.cookies["csrftoken"]}
        if content_type:
            headers["Content-Type"] = content_type
        session = requests.Session() if bad_credentials else self.session
        return session.request(method, url, data=body, headers=headers)


def through(live, door_class, *, calls, username):
    """Each call's (status, headers, body) through one door, with what differs per run replaced."""
    user, other = make_user(username), make_user(f"{username}-other")
    doors = {user: door_class(live, user), other: door_class(live, other)}
    state, answers = {}, []
    for method, path, body, content_type, *options in calls:
        who = other if "as-other" in options else user
        for name, value in state.items():  # ids in bodies: <name>
            body = body.replace(f"<{name}>", str(value)) if body is not None else None
        response = doors[who].request(
            method,
            live.url + path.format(**state),
            body=body.encode() if body is not None else None,
            content_type=content_type,
            bad_credentials="bad-credentials" in options,
        )
        if path == "/api/todo" and response.status_code == 201:
            if who is user and "id" in state:
                state["previous"] = state["id"]
            state["other" if who is other else "id"] = response.json()["id"]
        if path == "/api/lists" and response.status_code == 201:
            state["list"] = response.json()["id"]
        if path == "/api/lists" and method == "GET":
            state["inbox"] = response.json()[0]["id"]
        if response.headers.get("Content-Type") == JSON and '"next":"http' in response.text:
            state["next"] = response.json()["next"].removeprefix(live.url)
        answers.append(_comparable(response))
    return answers


def _comparable(response):
    headers = {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in DOOR_HEADERS
    }
    if "retry-after" in headers and response.status_code == 429:  # seconds left in the window
        headers["retry-after"] = "<seconds>"
    if "x-request-id" in headers:  # one per request
        headers["x-request-id"] = "<request id>"
    for header in ("etag", "location"):
        if header in headers:
            headers[header] = _same_per_run(headers[header])
    return response.status_code, headers, _same_per_run(response.text)


def _same_per_run(text):
    for pattern, replacement in DIFFERS_PER_RUN:
        text = pattern.sub(replacement, text)
    return text


CALLS = [
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
    ("POST", "/api/todo", '{"title": "", "priority": "urgent", "due_date": "2027-02-30"}', JSON),
    ("POST", "/api/todo", '{"title": "x", "completed": 0}', JSON),
    ("POST", "/api/todo", '{"title": "x", "colour": "red"}', JSON),
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
    ("GET", "/api/todo?q=B&page_size=1", None, None),
    ("GET", "{next}", None, None),
    ("GET", "/api/todo?q=%21%21", None, None),
    ("POST", "/api/lists", '{"name": "Work"}', JSON),
    ("POST", "/api/lists", '{"name": "work"}', JSON),
    ("GET", "/api/lists", None, None),
    ("GET", "/api/lists/{list}", None, None),
    ("PATCH", "/api/lists/{list}", '{"name": "Work!"}', JSON),
    ("DELETE", "/api/lists/{inbox}", None, None),
    ("POST", "/api/todo", '{"title": "at work", "list": <list>}', JSON),
    ("POST", "/api/todo", '{"title": "sub", "parent": <id>}', JSON),
    ("POST", "/api/todo", '{"title": "deeper", "parent": <id>}', JSON),
    ("GET", "/api/todo?list={list}&parent={previous}&order=position", None, None),
    ("PATCH", "/api/todo/{id}", '{"parent": null}', JSON),
    ("POST", "/api/todo/{id}/move", '{"parent": null, "after": <previous>}', JSON),
    ("POST", "/api/todo/{id}/move", '{"after": 999999999999}', JSON),
    ("POST", "/api/todo/{other}/move", "{}", JSON),
    ("GET", "/api/todo?list={list}&parent=none&order=position&page_size=1", None, None),
    ("GET", "{next}", None, None),
    ("GET", "/api/todo?order=position", None, None),
    (
        "POST",
        "/api/todo/bulk",
        '[{"title": "b3", "list": <list>}, {"title": "b4", "list": 999999999999}]',
        JSON,
    ),
    (
        "PATCH",
        "/api/todo/bulk",
        '[{"id": <id>, "completed": true}, {"id": <previous>, "title": "renamed in a batch"}]',
        JSON,
    ),
    ("PATCH", "/api/todo/bulk", '[{"id": <id>}, {"id": <other>, "title": "x"}]', JSON),
    ("PATCH", "/api/todo/bulk", '[{"id": <id>}, {"id": <id>, "priority": "top"}]', JSON),
    ("POST", "/api/todo/bulk/delete", '{"ids": [<id>, <other>]}', JSON),
    ("POST", "/api/todo/bulk/delete", '{"ids": [<id>]}', JSON),
    ("DELETE", "/api/lists/{list}", None, None),
    ("GET", "/api/lists/{list}", None, None),
    # Calls the lane hands to Django: its rules decide from the scope alone
    ("PUT", "/api/todo/bulk", '{"title": "x"}', JSON),
    ("DELETE", "/api/todo", None, None),
    ("POST", "/api/todo", '{"title": "x"}', "text/plain"),
    ("POST", "/api/todo", "", JSON),
    ("POST", "/api/todo", '{"title": "x"}', "application/json; charset=utf-8"),
    ("GET", "/api/todo/0", None, None),
    ("GET", "/api/todo/9223372036854775808", None, None),
    ("GET", "/api/todo/bulk", None, None),
    ("GET", "/api/todo/bulk/delete", None, None),
]
HANDED_ON = 9
STATUSES = [
    *(201, 201, 201, 200, 200, 200, 200, 200, 200, 404, 404, 404, 204, 404, 404),
    *(400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 201, 400, 400, 400),
    *(200, 200, 400),
    *(201, 400, 200, 200, 200, 409, 201, 201, 400, 200, 400, 200, 400, 404, 200, 200, 400),
    *(400, 200, 400, 400, 400, 204, 204, 404),
    *(405, 405, 415, 400, 201, 404, 404, 405, 405),
]


def test_a_session_call_gets_the_answer_of_the_same_token_call(live_asgi, settings, routed):
    settings.API_FAST_LANE = True
    by_token = through(live_asgi, TokenDoor, calls=CALLS, username="token")
    assert routed["lane"] == len(CALLS) - HANDED_ON
    by_session = through(live_asgi, SessionDoor, calls=CALLS, username="session")
    assert routed["lane"] == len(CALLS) - HANDED_ON  # a session never takes the lane
    assert [status for status, _, _ in by_token] == STATUSES
    for call, token_answer, session_answer in zip(CALLS, by_token, by_session, strict=True):
        assert session_answer == token_answer, call


def test_the_lane_answers_as_djangos_handler_does(live_asgi, settings, routed):
    calls = [*CALLS, ("GET", "/api/todo", None, None, "bad-credentials")]
    settings.API_FAST_LANE = False
    full = through(live_asgi, TokenDoor, calls=calls, username="full")
    assert routed["lane"] == 0
    settings.API_FAST_LANE = True
    lane = through(live_asgi, TokenDoor, calls=calls, username="lane")
    assert routed["lane"] == len(calls) - HANDED_ON
    assert [status for status, _, _ in lane] == [*STATUSES, 401]
    for call, full_answer, lane_answer in zip(calls, full, lane, strict=True):
        assert lane_answer == full_answer, call
    assert lane[-1][1]["www-authenticate"] == "Token"


def test_writes_count_against_the_limit_once_whatever_the_door(live_asgi, settings, routed):
    settings.API_FAST_LANE = True
    settings.THROTTLE_WRITES = "3/hour"
    calls = [
        ("POST", "/api/todo", '{"title": "one"}', JSON),
        ("POST", "/api/todo", '{"title": ""}', JSON),
        ("DELETE", "/api/todo/{id}", None, None),
        ("POST", "/api/todo", '{"title": "four"}', JSON),
        ("GET", "/api/todo", None, None),
    ]
    by_token = through(live_asgi, TokenDoor, calls=calls, username="token")
    assert routed["lane"] == len(calls)
    by_session = through(live_asgi, SessionDoor, calls=calls, username="session")
    assert [status for status, _, _ in by_token] == [201, 400, 204, 429, 200]
    assert by_session == by_token


def test_bulk_creates_on_the_lane_give_djangos_connection_back(live_asgi, settings, routed):
    """abulk_create runs on Django's pooled connection: the lane returns it after each call."""
    from django.db import connection

    settings.API_FAST_LANE = True
    door = TokenDoor(live_asgi, make_user("bulky"))
    for n in range(5):
        response = door.request(
            "POST",
            f"{live_asgi.url}/api/todo/bulk",
            body=f'[{{"title": "bulk {n}-1"}}, {{"title": "bulk {n}-2"}}]'.encode(),
            content_type=JSON,
        )
        assert response.status_code == 201
    assert routed["lane"] == 5
    connection.close()  # this test's own: back to the pool

    def nobody_holds_one():
        # A connection being opened while the pool grows counts in pool_size for a moment.
        stats = connection.pool.get_stats()
        return stats["pool_size"] == stats["pool_available"]

    wait_until(nobody_holds_one, what="every connection back in Django's pool")


def test_a_host_that_allowed_hosts_refuses_is_left_to_django(live_asgi, settings, routed):
    settings.API_FAST_LANE = True
    door = TokenDoor(live_asgi, make_user("hosted"))
    response = requests.get(
        f"{live_asgi.url}/api/todo", headers={**door.headers, "Host": "evil.example"}
    )
    assert response.status_code == 400
    assert routed["lane"] == 0
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    response = requests.get(
        f"{live_asgi.url}/api/todo", headers={**door.headers, "Host": "evil.example"}
    )
    assert response.status_code == 200
    assert routed["lane"] == 1
