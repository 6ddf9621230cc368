"""Overload: a real server with a tiny pool (2 connections, 2 waiters, 1 s wait) gets far more
concurrent requests than that. Every answer is 2xx or 503 with Retry-After, none is a 500, none
hangs, nothing acknowledged is lost, and the server serves normally right after."""

import asyncio

import httpx
import pytest
from django.db import connection

from conftest import make_user
from todos.models import Todo
from todos.tests.dbtools import connect
from todos.tests.real_servers import database_url, running_server, server_errors

pytestmark = pytest.mark.django_db(transaction=True)

# Both pools of the worker: Django's, and the API fast lane's that token calls to /api/todo use.
SMALL_POOL = {
    "DB_POOL_MIN_SIZE": "1",
    "DB_POOL_MAX_SIZE": "2",
    "DB_API_POOL_MIN_SIZE": "1",
    "DB_API_POOL_MAX_SIZE": "2",
    "DB_POOL_MAX_WAITING": "2",
    "DB_POOL_TIMEOUT": "1",
}
BURST = 300  # concurrent requests: 75 x (pool max + wait queue)
HANG = 30  # seconds: an answer slower than this counts as a hang


@pytest.fixture
def tokens():
    from rest_framework.authtoken.models import Token

    user, staff = make_user("loaded"), make_user("watcher", is_staff=True)
    return {
        "user": Token.objects.create(user=user).key,
        "staff": Token.objects.create(user=staff).key,
    }


@pytest.fixture
def server():
    with running_server(database_url(connection.settings_dict), **SMALL_POOL) as running:
        yield running


async def burst(base_url, token, count, tag, answered=None):
    """`count` requests at once, half creating a todo, half listing; (kind, title, response or
    exception) for each. `answered` (a list) gets an item as each answer arrives."""
    answered = [] if answered is None else answered
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
    headers = {"Authorization": f"Token {token}"}
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=HANG
    ) as client:

        async def one(i):
            title, kind = f"{tag}-{i}", ("create" if i % 2 else "list")
            try:
                if kind == "create":
                    response = await client.post("/api/todo", json={"title": title})
                else:
                    response = await client.get("/api/todo?page_size=5")
            except httpx.HTTPError as exc:
                response = exc
            answered.append(i)
            return kind, title, response

        return await asyncio.gather(*(one(i) for i in range(count)))


def statuses(results):
    counts = {}
    for _, _, response in results:
        key = type(response).__name__ if isinstance(response, Exception) else response.status_code
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_a_burst_past_pool_and_queue_gets_2xx_or_503_and_loses_nothing(server, tokens):
    base_url, log = server
    # Hold the todos table until all but the two requests holding the pool's connections have
    # been answered, so the pool is surely busy and its queue full, whatever the machine's speed.
    with connect() as locker:
        locker.execute("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE")

        async def burst_while_locked():
            answered = []
            task = asyncio.create_task(burst(base_url, tokens["user"], BURST, "held", answered))
            deadline = asyncio.get_running_loop().time() + HANG
            while len(answered) < BURST - 2 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            locker.rollback()
            return await task

        held = asyncio.run(burst_while_locked())
    free = asyncio.run(burst(base_url, tokens["user"], BURST, "free"))

    for results in (held, free):
        counts = statuses(results)
        assert set(counts) <= {200, 201, 503}, counts  # no 500, no other error, no hang
        for _, _, response in results:
            if response.status_code == 503:
                assert response.headers["Retry-After"] == "1"
                assert response.json() == {
                    "detail": "The database is busy or unavailable. Try again shortly."
                }
    held_counts = statuses(held)
    print(f"\nheld: {held_counts}, free: {statuses(free)}")
    assert held_counts[503] == BURST - 2  # all but the two that held the pool's connections
    assert held_counts.get(200, 0) + held_counts.get(201, 0) == 2
    assert server_errors(log) == []

    created = {title for kind, title, r in held + free if kind == "create" and r.status_code == 201}
    refused = {title for kind, title, r in held + free if kind == "create" and r.status_code == 503}
    stored = set(Todo.objects.values_list("title", flat=True))
    assert created <= stored  # every acknowledged todo is there
    assert not (refused & stored)  # and a refused one was not written

    # Right after, it serves normally, one request at a time.
    with httpx.Client(base_url=base_url, timeout=HANG) as client:
        user = {"Authorization": f"Token {tokens['user']}"}
        for i in range(20):
            assert (
                client.post("/api/todo", json={"title": f"after {i}"}, headers=user).status_code
                == 201
            )
            assert client.get("/api/todo", headers=user).status_code == 200
        assert client.get("/readyz").status_code == 200
        pool = client.get(
            "/api/debug/pool-status", headers={"Authorization": f"Token {tokens['staff']}"}
        ).json()
    lane = pool["api_pool"]  # the burst's token calls took the fast lane
    assert pool["pool"]["max_size"] == lane["pool"]["max_size"] == 2
    assert lane["connections"]["size"] <= 2
    assert lane["counters"]["requests_errors"] >= held_counts[503] - 2  # refused, not queued
