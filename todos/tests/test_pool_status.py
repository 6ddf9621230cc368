import os

import pytest

from todos.tests.dbtools import wait_until

pytestmark = pytest.mark.django_db


def test_staff_see_this_workers_pool_and_the_servers_limits(staff_api, settings):
    response = staff_api.get("/api/debug/pool-status")

    assert response.status_code == 200
    body = response.json()
    assert body["pid"] == os.getpid()
    assert body["pool"]["min_size"] == 0  # a test process is no serving worker
    assert body["pool"]["max_size"] == settings.DB_POOL_MAX_SIZE
    assert body["pool"]["max_lifetime"] == 3600
    assert body["connections"]["in_use"] >= 1  # this request's own connection
    assert body["requests_waiting"] == 0
    assert set(body["counters"]) >= {
        "requests_num",
        "requests_queued",
        "requests_wait_ms",
        "requests_errors",
        "connections_num",
        "connections_errors",
        "connections_lost",
    }
    server = body["server"]
    assert server["max_connections"] >= 1
    assert server["available_connections"] == (
        server["max_connections"] - server["reserved_connections"]
    )
    assert server["current_connections"] >= 1
    assert server["workers"] == settings.WEB_CONCURRENCY
    assert server["pgbouncer"] == settings.DB_PGBOUNCER


@pytest.mark.django_db(transaction=True)
def test_it_counts_the_connections_in_use_and_idle(staff_api, reconfigure_pool):
    pool = reconfigure_pool(pool={"min_size": 3, "max_size": 6})
    pool.open(wait=True)  # all three connected (one still connecting would count as in use)
    held = [pool.getconn(), pool.getconn()]
    try:
        connections = staff_api.get("/api/debug/pool-status").json()["connections"]
    finally:
        for conn in held:
            pool.putconn(conn)

    # The two held here and the request's own; the pool had no need to grow.
    assert connections == {"size": 3, "in_use": 3, "idle": 0}


def test_it_counts_every_pool_a_worker_opens_against_the_budget(staff_api, settings):
    settings.WEB_CONCURRENCY, settings.DB_CONNECTION_BUDGET = 3, 120
    settings.DB_API_POOL_MAX_SIZE = 7

    server = staff_api.get("/api/debug/pool-status").json()["server"]

    assert server["pools"] == {
        "DB_POOL_MAX_SIZE": settings.DB_POOL_MAX_SIZE,
        "DB_API_POOL_MAX_SIZE": 7,
    }
    assert server["connections_per_worker"] == settings.DB_POOL_MAX_SIZE + 7
    assert server["workers_x_connections_per_worker"] == 3 * (settings.DB_POOL_MAX_SIZE + 7)
    assert server["connection_budget"] == 120
    assert server["connection_budget_source"] == "DB_CONNECTION_BUDGET"


def test_non_staff_get_403(alice_api):
    response = alice_api.get("/api/debug/pool-status")
    assert response.status_code == 403
    assert "permission" in response.json()["detail"]


def test_anonymous_callers_get_401(anon_api):
    assert anon_api.get("/api/debug/pool-status").status_code == 401


@pytest.mark.parametrize("api_transport", ["live"])
def test_it_shows_the_fast_lanes_pool_once_a_token_call_opened_it(staff_api, settings):
    assert staff_api.get("/api/todo").status_code == 200  # served by the lane

    body = staff_api.get("/api/debug/pool-status").json()

    lane = body["api_pool"]
    assert lane["pool"]["max_size"] == settings.DB_API_POOL_MAX_SIZE
    assert lane["pool"]["min_size"] == 0  # a test process is no serving worker
    assert lane["counters"]["requests_num"] >= 1

    def lane_at_rest():
        connections = staff_api.get("/api/debug/pool-status").json()["api_pool"]["connections"]
        return connections if connections["in_use"] == 0 else None

    # No lane request runs now: what the lane opened is idle, within the lane pool's bounds.
    idle = wait_until(lane_at_rest, what="the lane's connections back in its pool")["idle"]
    assert 1 <= idle <= settings.DB_API_POOL_MAX_SIZE
