"""When the database cannot serve a request, the API answers 503 with Retry-After, never 500."""

import threading

import psycopg
import pytest
from django.db import connection
from psycopg_pool.base import AttemptWithBackoff

from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db(transaction=True)


def assert_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {"detail": "The database is busy or unavailable. Try again shortly."}


def test_an_exhausted_pool_answers_503(alice_api, reconfigure_pool):
    pool = reconfigure_pool(pool={"min_size": 1, "max_size": 2, "timeout": 0.3})
    pool.open(wait=True)
    held = [pool.getconn(), pool.getconn()]
    try:
        assert_503(alice_api.get("/api/todo"))
        assert_503(alice_api.post("/api/todo", {"title": "lost?"}, format="json"))
    finally:
        for conn in held:
            pool.putconn(conn)
    assert alice_api.get("/api/todo").status_code == 200
    assert not Todo.objects.exists()


def test_a_full_wait_queue_answers_503_at_once(alice_api, reconfigure_pool):
    pool = reconfigure_pool(pool={"min_size": 1, "max_size": 1, "timeout": 5, "max_waiting": 1})
    pool.open(wait=True)
    held = pool.getconn()
    waiter = threading.Thread(target=lambda: pool.putconn(pool.getconn()))
    waiter.start()
    try:
        while pool.get_stats().get("requests_waiting", 0) < 1:
            threading.Event().wait(0.01)
        assert_503(alice_api.get("/api/todo"))
        assert pool.get_stats()["requests_errors"] >= 1
    finally:
        pool.putconn(held)
        waiter.join()


def test_an_unreachable_database_answers_503(alice_api, reconfigure_pool):
    reconfigure_pool(PORT="1", pool={"timeout": 0.5})
    assert_503(alice_api.get("/api/todo"))


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
