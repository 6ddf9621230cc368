import os

import pytest

pytestmark = pytest.mark.django_db


def test_staff_see_this_workers_pool_and_the_servers_limits(staff_api):
    response = staff_api.get("/api/debug/pool-status")

    assert response.status_code == 200
    body = response.json()
    assert body["pid"] == os.getpid()
    assert body["pool"]["min_size"] == 20
    assert body["pool"]["max_size"] == 50
    assert body["pool"]["max_lifetime"] == 3600
    assert body["connections"]["in_use"] >= 1  # this request's own connection
    assert (
        body["connections"]["size"] == body["connections"]["in_use"] + body["connections"]["idle"]
    )
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


def test_non_staff_get_403(alice_api):
    response = alice_api.get("/api/debug/pool-status")
    assert response.status_code == 403
    assert "permission" in response.json()["detail"]


def test_anonymous_callers_get_401(anon_api):
    assert anon_api.get("/api/debug/pool-status").status_code == 401
