"""/healthz answers while the process runs; /readyz only while the database answers through
the pool."""

import threading

import pytest
from django.db import connection

from todos.tests.dbtools import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_answers_without_the_database(client, reconfigure_pool):
    reconfigure_pool(PORT="1", pool={"timeout": 0.5})
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_answers_200_when_the_database_does(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["pool"]["size"] >= 1
    assert body["pool"]["max_size"] == connection.pool.max_size


def test_readyz_is_503_when_the_database_is_unreachable(client, reconfigure_pool):
    reconfigure_pool(PORT="1", pool={"timeout": 0.5})
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["status"] == "unavailable"
    assert response.json()["reason"] == "the database does not answer"


def test_readyz_is_503_while_the_pool_is_exhausted(client, reconfigure_pool):
    pool = reconfigure_pool(pool={"min_size": 1, "max_size": 1, "timeout": 0.3})
    pool.open(wait=True)
    held = pool.getconn()
    try:
        assert client.get("/readyz").status_code == 503
    finally:
        pool.putconn(held)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_while_the_wait_queue_is_full(client, reconfigure_pool):
    pool = reconfigure_pool(pool={"min_size": 1, "max_size": 1, "timeout": 5, "max_waiting": 1})
    pool.open(wait=True)
    held = pool.getconn()
    waiter = threading.Thread(target=lambda: pool.putconn(pool.getconn()))
    waiter.start()
    try:
        wait_until(lambda: pool.get_stats().get("requests_waiting", 0) == 1, what="a waiter")
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["reason"] == "the pool's wait queue is full"
    finally:
        pool.putconn(held)
        waiter.join(timeout=10)
    assert not waiter.is_alive()


def test_probes_need_no_credentials_and_are_not_in_the_api_schema(client):
    assert client.get("/healthz").status_code == 200
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert not any("healthz" in path or "readyz" in path for path in schema["paths"])
