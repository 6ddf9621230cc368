"""When the database cannot serve a request, the API answers 503 with Retry-After, never 500."""

import threading

import psycopg
import pytest
from django.db import connection

from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reconfigure_pool():
    """Rebuild the default pool with other options for one test, then restore it."""
    original = dict(connection.settings_dict)
    original_options = {**original["OPTIONS"], "pool": dict(original["OPTIONS"]["pool"])}

    def rebuild(**changes):
        connection.close()
        connection.close_pool()
        pool_options = {**original_options["pool"], **changes.pop("pool", {})}
        connection.settings_dict.update(changes)
        connection.settings_dict["OPTIONS"] = {
            **original_options,
            **changes.pop("OPTIONS", {}),
            "pool": pool_options,
        }
        return connection.pool

    yield rebuild
    connection.close()
    connection.close_pool()
    connection.settings_dict.update(original)
    connection.settings_dict["OPTIONS"] = original_options


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


@pytest.mark.direct_only  # sets the timeout in `options`; test_pgbouncer.py has the role's twin
def test_a_statement_timeout_answers_503_and_the_pool_recovers(alice, alice_api, reconfigure_pool):
    todo = create_todo(owner=alice, title="locked")
    reconfigure_pool(OPTIONS={"options": "-c statement_timeout=200"})
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"]
    ) as locker:
        locker.execute("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE")
        assert_503(alice_api.get(f"/api/todo/{todo.pk}"))
    assert alice_api.get(f"/api/todo/{todo.pk}").status_code == 200
