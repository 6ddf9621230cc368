"""When the database cannot serve a request, the API answers 503 with Retry-After, never 500,
and writes nothing; on both transports (Django's pool, and the fast lane's own pool)."""

import threading
from types import SimpleNamespace

import psycopg
import pytest
from django.db import connection
from psycopg_pool.base import AttemptWithBackoff

from conftest import django_transport_only
from todos import api_pool
from todos.models import Todo
from todos.services import create_todo
from todos.tests.dbtools import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pools(api_transport, request, settings):
    """Rebuild the pools the API uses with other options for one test, then restore them."""
    live = request.getfixturevalue("live_asgi") if api_transport == "live" else None
    original = dict(connection.settings_dict)
    original_options = {**original["OPTIONS"], "pool": dict(original["OPTIONS"]["pool"])}

    def close_all():
        connection.close()
        connection.close_pool()
        if live:
            live.close_lane_pool()

    def rebuild(*, max_size=None, options=None, port=None, **pool_changes):
        close_all()
        if max_size is not None:
            pool_changes.update(min_size=1, max_size=max_size)
            settings.DB_API_POOL_MIN_SIZE, settings.DB_API_POOL_MAX_SIZE = 1, max_size
        connection.settings_dict["OPTIONS"] = {
            **original_options,
            **({"options": options} if options else {}),
            "pool": {**original_options["pool"], **pool_changes},
        }
        if port is not None:
            connection.settings_dict["PORT"] = port

    def stats():
        pool = api_pool.current() if live else connection.pool
        stats = pool.get_stats() if pool else {}
        return SimpleNamespace(
            in_use=stats.get("pool_size", 0) - stats.get("pool_available", 0),
            waiting=stats.get("requests_waiting", 0),
        )

    yield SimpleNamespace(rebuild=rebuild, stats=stats)
    close_all()
    connection.settings_dict.update(original)
    connection.settings_dict["OPTIONS"] = original_options


class TableLock:
    """Locks the todos table from a connection of its own, so the API's queries wait on it."""

    def __init__(self, db):
        self.conn = psycopg.connect(
            dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"]
        )

    def acquire(self):
        self.conn.execute("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE")

    def release(self):
        self.conn.commit()


@pytest.fixture
def table_lock():
    lock = TableLock(dict(connection.settings_dict))
    yield lock
    lock.conn.close()


def assert_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {"detail": "The database is busy or unavailable. Try again shortly."}


def in_background(call):
    result = {}

    def run():
        try:
            result["response"] = call()
        finally:
            connection.close()  # Django's test client keeps a thread's connection open

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_an_exhausted_pool_answers_503_and_recovers(alice, alice_api, pools, table_lock):
    todo = create_todo(owner=alice, title="mine")
    pools.rebuild(max_size=1, timeout=0.3)
    assert alice_api.get("/api/todo").status_code == 200  # the new pool is open
    connection.close()  # and idle: Django's test client keeps this thread's connection
    table_lock.acquire()
    blocked, result = in_background(lambda: alice_api.get(f"/api/todo/{todo.pk}"))
    wait_until(lambda: pools.stats().in_use == 1)

    assert_503(alice_api.get("/api/todo"))
    assert_503(alice_api.post("/api/todo", {"title": "lost?"}, format="json"))

    table_lock.release()  # releases the lock: the blocked request finishes normally
    blocked.join(timeout=10)
    assert result["response"].status_code == 200
    assert alice_api.get("/api/todo").status_code == 200
    assert list(Todo.objects.values_list("title", flat=True)) == ["mine"]


def test_a_full_wait_queue_answers_503_at_once(alice, alice_api, pools, table_lock):
    todo = create_todo(owner=alice, title="mine")
    pools.rebuild(max_size=1, timeout=10, max_waiting=1)
    assert alice_api.get("/api/todo").status_code == 200  # the new pool is open
    connection.close()  # and idle: Django's test client keeps this thread's connection
    table_lock.acquire()
    holder, held = in_background(lambda: alice_api.get(f"/api/todo/{todo.pk}"))
    wait_until(lambda: pools.stats().in_use == 1)
    waiter, waited = in_background(lambda: alice_api.get(f"/api/todo/{todo.pk}"))
    wait_until(lambda: pools.stats().waiting == 1)

    assert_503(alice_api.get("/api/todo"))  # the queue is full: no wait for the 10 s timeout

    table_lock.release()
    holder.join(timeout=10)
    waiter.join(timeout=10)
    assert held["response"].status_code == waited["response"].status_code == 200


def test_an_unreachable_database_answers_503(alice_api, pools):
    pools.rebuild(port="1", timeout=0.5)
    assert_503(alice_api.get("/api/todo"))
    assert_503(alice_api.post("/api/todo", {"title": "lost?"}, format="json"))


@pytest.mark.direct_only  # sets the timeout in `options`; test_pgbouncer.py has the role's twin
def test_a_statement_timeout_answers_503_and_the_pool_recovers(alice, alice_api, pools, table_lock):
    todo = create_todo(owner=alice, title="locked")
    pools.rebuild(options="-c statement_timeout=200")
    table_lock.acquire()

    assert_503(alice_api.get(f"/api/todo/{todo.pk}"))
    assert_503(alice_api.patch(f"/api/todo/{todo.pk}", {"title": "changed"}, format="json"))

    table_lock.release()
    assert alice_api.get(f"/api/todo/{todo.pk}").json()["title"] == "locked"


@django_transport_only  # looks inside Django's pool
@pytest.mark.direct_only  # sets the timeout in `options`
def test_a_statement_timeout_answers_503_and_its_connection_goes_back_healthy(
    alice, alice_api, reconfigure_pool
):
    todo = create_todo(owner=alice, title="locked")
    # One connection only, so the request that times out and the ones after it share it.
    pool = reconfigure_pool(
        OPTIONS={"options": "-c statement_timeout=200"}, pool={"min_size": 1, "max_size": 1}
    )
    pool.open(wait=True)
    with pool.connection() as conn:
        backend_pid = conn.info.backend_pid
    before = pool.get_stats()

    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"]
    ) as locker:
        locker.execute("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE")
        assert_503(alice_api.get(f"/api/todo/{todo.pk}"))
    connection.close()  # what request_finished does at the end of a real request

    after = pool.get_stats()
    assert after["pool_size"] == after["pool_available"] == 1  # back in the pool, idle
    assert after.get("returns_bad", 0) == before.get("returns_bad", 0) == 0
    assert after.get("connections_num", 0) == before.get("connections_num", 0)  # none replaced
    with pool.connection() as conn:
        assert conn.info.backend_pid == backend_pid
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert alice_api.get(f"/api/todo/{todo.pk}").json()["title"] == "locked"


def test_the_pool_retries_a_lost_database_every_second_not_ever_more_slowly():
    """psycopg_pool's own backoff doubles (1, 2, 4, 8 s...); after a long outage the service
    stayed down for seconds after the database was back (test_database_outage)."""
    attempt = AttemptWithBackoff(timeout=300)
    delays = []
    for second in range(10):
        attempt.update_delay(now=float(second))
        delays.append(attempt.delay)
    assert all(0.9 <= delay <= 1.1 for delay in delays)
