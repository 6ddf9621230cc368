"""GET /api/events: Server-Sent Events of the caller's changes, over HTTP to the live server (the
events door), each event's id a sync token. Also run through PgBouncer (bin/test's second pass):
then the listener goes straight to PostgreSQL (EVENTS_LISTEN_URL)."""

import httpx
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

from todos import events
from todos.services import create_todo
from todos.tests.dbtools import connect, wait_until
from todos.tests.event_streams import EventStream
from todos.tests.real_servers import Served, database_url

pytestmark = pytest.mark.parametrize("api_transport", ["live"])


@pytest.fixture(autouse=True)
def listener_straight_to_postgresql(settings, django_db_setup):
    """Behind PgBouncer (the --pgbouncer pass), the listener's own connection skips it."""
    bouncer = django_db_setup
    if bouncer is not None:
        db, server = connection.settings_dict, bouncer.settings
        settings.EVENTS_LISTEN_URL = (
            f"postgres://{db['USER']}@{server['server_host']}:{server['server_port']}/{db['NAME']}"
        )


@pytest.fixture
def open_stream(live_asgi, request):
    """open_stream(api_client or headers, **params) -> an EventStream, closed after the test."""
    opened = []

    def open_(who=None, *, headers=None, params=None):
        headers = dict(headers or {})
        if who is not None:
            headers["Authorization"] = who.session.headers["Authorization"]
        stream = EventStream(live_asgi.url, headers, params=params)
        opened.append(stream)
        return stream

    yield open_
    for stream in opened:
        stream.close()


def create(api, title, **fields):
    response = api.post("/api/todo", {"title": title, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_stream_sends_each_kind_of_change_as_it_happens(alice_api, open_stream):
    stream = open_stream(alice_api)
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")

    groceries = alice_api.post("/api/lists", {"name": "Groceries"}, format="json").json()
    is_groceries = of("list", groceries["id"])
    assert stream.events_until(is_groceries)[-1].data == groceries

    todo = create(alice_api, "Buy milk", list=groceries["id"])
    seen = stream.events_until(of("todo", todo["id"]))
    assert seen[-1].data == todo
    assert seen[-1].id  # a sync token
    assert [e.data["open_count"] for e in seen if is_groceries(e)] == [1]  # its new count

    changed = alice_api.patch(f"/api/todo/{todo['id']}", {"priority": "high"}, format="json")
    assert stream.events_until(of("todo", todo["id"]))[-1].data == changed.json()

    assert alice_api.delete(f"/api/todo/{todo['id']}").status_code == 204
    assert stream.events_until(of("todo_deleted", todo["id"]))[-1].data == {"id": todo["id"]}

    assert alice_api.delete(f"/api/lists/{groceries['id']}").status_code == 204
    seen = stream.events_until(of("list_deleted", groceries["id"]))
    assert seen[-1].data == {"id": groceries["id"]}


def of(kind, pk):
    return lambda event: event.kind == kind and event.data["id"] == pk


def test_a_stream_hears_nothing_of_another_users_changes(alice_api, bob_api, open_stream):
    stream = open_stream(alice_api)
    bobs = create(bob_api, "Bob's")
    mine = create(alice_api, "Alice's")
    seen = stream.events_until(of("todo", mine["id"]))
    assert bobs["id"] not in [e.data["id"] for e in seen if e.kind == "todo"]


def create_and_hear(api, open_stream, title):
    """Create a todo with a stream open, and close it: the todo and the stream's last event."""
    stream = open_stream(api)
    todo = create(api, title)
    last = stream.events_until(of("todo", todo["id"]))[-1]
    stream.close()
    return todo, last


def test_last_event_id_resumes_with_nothing_lost_and_nothing_repeated(alice_api, open_stream):
    a, last = create_and_hear(alice_api, open_stream, "A")

    # While no stream is open:
    b = create(alice_api, "B")
    a_done = alice_api.patch(f"/api/todo/{a['id']}", {"completed": True}, format="json").json()
    gone = create(alice_api, "C")
    assert alice_api.delete(f"/api/todo/{gone['id']}").status_code == 204

    again = open_stream(alice_api, headers={"Last-Event-ID": last.id})
    marker = create(alice_api, "marker")  # what comes before its event is all there is
    seen = again.events_until(of("todo", marker["id"]))[:-1]
    todos = sorted((e.data for e in seen if e.kind == "todo"), key=lambda todo: todo["id"])
    assert todos == [a_done, b]
    assert [e.data["id"] for e in seen if e.kind == "todo_deleted"] == [gone["id"]]


def test_the_query_parameter_resumes_too(alice_api, open_stream):
    a, last = create_and_hear(alice_api, open_stream, "A")
    b = create(alice_api, "B")
    again = open_stream(alice_api, params={"last_event_id": last.id})
    seen = again.events_until(of("todo", b["id"]))
    assert a["id"] not in [e.data["id"] for e in seen if e.kind == "todo"]


def test_a_bad_last_event_id_is_400(alice_api, open_stream):
    stream = open_stream(alice_api, headers={"Last-Event-ID": "not-a-token"})
    assert stream.status == 400
    assert list(stream.json()) == ["Last-Event-ID"]


def test_the_eleventh_stream_of_a_user_is_429_and_another_user_is_not_counted(
    alice_api, bob_api, open_stream, settings
):
    assert settings.EVENTS_MAX_STREAMS_PER_USER == 10
    streams = [open_stream(alice_api) for _ in range(10)]
    assert [s.status for s in streams] == [200] * 10
    eleventh = open_stream(alice_api)
    assert eleventh.status == 429
    assert eleventh.json() == {"detail": "Too many event streams open: the limit is 10 a user."}
    assert int(eleventh.headers["Retry-After"]) >= 1
    assert open_stream(bob_api).status == 200


def test_a_client_that_goes_away_frees_its_slot(alice_api, open_stream, settings):
    settings.EVENTS_MAX_STREAMS_PER_USER = 2
    first, _second = open_stream(alice_api), open_stream(alice_api)
    assert open_stream(alice_api).status == 429
    first.close()  # the client goes away; the server notices and gives the slot back

    def a_third_opens():
        stream = open_stream(alice_api)
        return stream.status == 200

    wait_until(a_third_opens, timeout=10, what="the slot is given back")


def test_the_open_streams_gauge_counts_them(alice_api, open_stream, live_asgi):
    def gauge():
        text = httpx.get(f"{live_asgi.url}/metrics").text
        [line] = [line for line in text.splitlines() if line.startswith("todos_event_streams_open")]
        return float(line.split()[-1])

    before = gauge()
    stream = open_stream(alice_api)
    assert gauge() == before + 1
    stream.close()
    wait_until(lambda: gauge() == before, what="the gauge counts the stream out")


def test_a_comment_keeps_an_idle_stream_alive(alice_api, open_stream, settings):
    settings.EVENTS_KEEPALIVE_SECONDS = 0.05
    stream = open_stream(alice_api)
    comments = [stream.next(comments=True).comments[-1] for _ in range(3)]
    assert comments == ["connected", "keepalive", "keepalive"]


def retries_soon(stream, settings):
    """The stream ended with a retry hint in EVENTS_RETRY_MS's range (it is spread)."""
    return settings.EVENTS_RETRY_MS <= stream.retry <= 2 * settings.EVENTS_RETRY_MS


def listener_backends():
    with connect(autocommit=True) as conn:
        return conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
            " AND datname = current_database()",
            [events.LISTENER_NAME],
        ).fetchall()


def stop_listener():
    with connect(autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s"
            " AND datname = current_database()",
            [events.LISTENER_NAME],
        )


def test_when_the_listener_goes_down_streams_say_retry_and_end_and_the_api_still_answers(
    alice_api, open_stream, settings
):
    stream = open_stream(alice_api)
    assert stream.status == 200
    assert listener_backends()
    reachable = settings.EVENTS_LISTEN_URL
    settings.EVENTS_LISTEN_URL = "postgres://postgres@127.0.0.1:1/nowhere"  # stays down
    stop_listener()
    assert stream.next(timeout=10) is None  # ended...
    assert retries_soon(stream, settings)  # ...telling the client when to come back

    refused = open_stream(alice_api)
    assert refused.status == 200
    assert refused.next(timeout=10) is None
    assert retries_soon(refused, settings)
    assert alice_api.get("/api/todo").status_code == 200
    assert alice_api.get("/api/sync").status_code == 200  # the feed does not need the listener

    settings.EVENTS_LISTEN_URL = reachable

    def streams_again():
        trial = open_stream(alice_api)
        return trial.status == 200 and trial.next(comments=True).comments == ["connected"]

    wait_until(streams_again, timeout=15, what="the listener is back")
    back = open_stream(alice_api)
    todo = create(alice_api, "after the outage")
    back.events_until(of("todo", todo["id"]))


def test_when_redis_is_down_a_new_stream_says_retry_and_nothing_500s(
    alice_api, open_stream, settings
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    stream = open_stream(alice_api)
    assert stream.status == 200
    assert stream.next(timeout=10) is None
    assert retries_soon(stream, settings)
    assert alice_api.get("/api/todo").status_code == 200


def test_a_session_opens_a_stream_too_and_hears_of_writes_made_anywhere(
    alice, anon_api, open_stream
):
    browser = Client()
    browser.force_login(alice)
    session = browser.cookies["sessionid"].value
    stream = open_stream(headers={"Cookie": f"sessionid={session}"})
    assert stream.status == 200
    todo = create_todo(owner=alice, title="in a shell, say")
    stream.events_until(of("todo", todo.pk))


def test_no_credentials_is_401_in_the_apis_format(anon_api, open_stream):
    stream = open_stream()
    assert stream.status == 401
    assert stream.json() == {"detail": "Authentication credentials were not provided."}
    assert stream.headers["WWW-Authenticate"] == "Token"


def test_a_bad_token_is_401(anon_api, open_stream):
    stream = open_stream(headers={"Authorization": "Token nope"})
    assert stream.status == 401
    assert stream.json() == {"detail": "Invalid token."}
    assert not User.objects.filter(username="nope").exists()


@pytest.mark.slow
@pytest.mark.direct_only
def test_on_sigterm_a_node_ends_its_streams_with_a_retry_and_exits(
    alice, api_transport, django_db_blocker
):
    """(Live, as the module's tests: its own `manage.py serve`, two workers.)"""
    token = Token.objects.create(user=alice).key
    with django_db_blocker.unblock():
        node = Served(
            database_url(connection.settings_dict),
            WEB_CONCURRENCY="2",
            DB_POOL_MIN_SIZE="1",
            DB_POOL_MAX_SIZE="3",
            DB_API_POOL_MAX_SIZE="2",
            GRACEFUL_DRAIN_SECONDS="1",
            GRACEFUL_TIMEOUT="8",
        )
    try:
        streams = [EventStream(node.url, {"Authorization": f"Token {token}"}) for _ in range(4)]
        assert [s.next(comments=True).comments for s in streams] == [["connected"]] * 4
        node.process.terminate()
        for stream in streams:  # whichever worker holds it, at the start of the drain
            assert stream.next(timeout=5) is None
            assert stream.retry is not None
            stream.close()
        assert node.process.wait(timeout=10) == 0
    finally:
        node.remove()


def test_another_method_is_a_json_405(anon_api):
    response = anon_api.post("/api/events")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
    assert response["Allow"] == "GET"


def test_under_wsgi_the_endpoint_says_204_which_stops_an_eventsource(alice, anon_api):
    browser = Client()  # Django's WSGI handler, as runserver and wsgi.py serve
    browser.force_login(alice)
    response = browser.get("/api/events")
    assert response.status_code == 204
    assert response.content == b""
