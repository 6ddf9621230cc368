"""Idempotent retries and If-Match under the production ASGI server (uvicorn), where each request
runs in its own thread and the transaction wraps the async view: concurrent retries create
once, and of racing writers with one ETag exactly one wins."""

import asyncio

import httpx
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from conftest import make_user
from todos.models import Todo
from todos.tests.dbtools import connect, wait_for_blocked_backends
from todos.tests.real_servers import database_url, running_server, server_errors

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live():
    token = Token.objects.create(user=make_user("live")).key
    with running_server(database_url(connection.settings_dict)) as (base_url, log):
        client = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=30
        )
        yield client, log
        assert server_errors(log) == []


def test_concurrent_retries_over_asgi_create_one_todo(live):
    client, _ = live
    retries = 10

    async def scenario():
        with connect() as locker, connect(autocommit=True) as watcher:
            locker.execute("LOCK TABLE todos IN SHARE MODE")
            sends = [
                asyncio.create_task(
                    client.post(
                        "/api/todo", json={"title": "once"}, headers={"Idempotency-Key": "live-1"}
                    )
                )
                for _ in range(retries)
            ]
            await asyncio.to_thread(wait_for_blocked_backends, watcher, retries)
            locker.rollback()
            return await asyncio.gather(*sends)

    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [201] * retries
    assert len({r.content for r in responses}) == 1
    assert Todo.objects.count() == 1


def test_racing_writers_over_asgi_with_one_etag_one_wins(live):
    client, _ = live

    async def scenario():
        created = await client.post("/api/todo", json={"title": "shared"})
        pk, etag = created.json()["id"], created.headers["ETag"]
        with connect() as locker, connect(autocommit=True) as watcher:
            locker.execute("SELECT 1 FROM todos WHERE id = %s FOR UPDATE", [pk])
            writes = [
                asyncio.create_task(
                    client.patch(
                        f"/api/todo/{pk}", json={"title": f"writer {i}"}, headers={"If-Match": etag}
                    )
                )
                for i in range(2)
            ]
            await asyncio.to_thread(wait_for_blocked_backends, watcher, 2)
            locker.rollback()
            return await asyncio.gather(*writes)

    responses = asyncio.run(scenario())
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200)
    assert Todo.objects.get().title == winner.json()["title"]
