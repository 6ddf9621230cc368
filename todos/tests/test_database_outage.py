"""A database outage while writers create todos, on a throwaway PostgreSQL cluster of the test's
own (never the shared server): while it is down the API answers 503 (never 500) and /readyz
says so; once it is back the same server process recovers within 5 seconds; every todo
acknowledged with 201 is in the database, and writers that retried their 503s with the same
Idempotency-Key got each of their todos exactly once."""

import asyncio
import time
import uuid
from collections import namedtuple

import httpx
import psycopg
import pytest

from todos.tests.real_servers import Cluster, manage, running_server, server_errors

WRITERS = 8
Result = namedtuple("Result", "writer title key status pk started finished")
RECOVERY_BOUND = 5.0  # seconds from the database being back to the API creating again
# Long enough for psycopg_pool's reconnection backoff (1, 2, 4, 8 s...) to outgrow the bound,
# had todos.db not capped it.
DOWN = 20.0
WRITES_AROUND_THE_OUTAGE = 40  # acknowledged before the crash, and again after the restart

# A pool that notices a dead server quickly; the rest are the service's defaults.
POOL = {
    "DB_POOL_MIN_SIZE": "2",
    "DB_POOL_MAX_SIZE": "4",
    "DB_POOL_TIMEOUT": "1",
    "DB_CONNECT_TIMEOUT": "2",
}


@pytest.fixture
def cluster():
    cluster = Cluster()
    try:
        cluster.start()
        with psycopg.connect(
            f"postgres://postgres@127.0.0.1:{cluster.port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE todos")
        manage("migrate", "--no-input", database_url=cluster.url)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def token(cluster):
    script = (
        "from django.contrib.auth.models import User; from rest_framework.authtoken.models "
        "import Token; print(Token.objects.create(user=User.objects.create_user('writer')).key)"
    )
    return manage("shell", "-v", "0", "-c", script, database_url=cluster.url).stdout.split()[-1]


class Writers:
    """Writers creating todos in a loop. Even-numbered ones send no Idempotency-Key and move on
    after a 503; odd-numbered ones send a key and retry the same todo until it is created."""

    def __init__(self, base_url, token):
        self.base_url, self.token = base_url, token
        self.results = []
        self.running = True

    async def run(self):
        headers = {"Authorization": f"Token {self.token}"}
        async with httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30) as c:
            await asyncio.gather(*(self._write(c, n) for n in range(WRITERS)))

    async def _write(self, client, writer):
        serial = 0
        while self.running:
            serial += 1
            title = f"writer {writer} todo {serial}"
            key = uuid.uuid4().hex if writer % 2 else None
            while True:
                status = await self._post(client, writer, title, key)
                if status != 503 or key is None:
                    break
                await asyncio.sleep(0.2)  # then the same key again
            await asyncio.sleep(0.02)

    async def _post(self, client, writer, title, key):
        started = time.monotonic()
        response = await client.post(
            "/api/todo",
            json={"title": title},
            headers={"Idempotency-Key": key} if key else {},
        )
        pk = response.json()["id"] if response.status_code == 201 else None
        if response.status_code == 503:
            assert response.headers["Retry-After"] == "1"
        self.results.append(
            Result(writer, title, key, response.status_code, pk, started, time.monotonic())
        )
        return response.status_code


def test_writers_survive_a_database_outage_and_nothing_acknowledged_is_lost(cluster, token):
    with running_server(cluster.url, **POOL) as (base_url, log):
        writers = Writers(base_url, token)
        probe = httpx.Client(base_url=base_url, timeout=30)
        timeline = {}

        async def scenario():
            task = asyncio.create_task(writers.run())
            await acknowledged_after(writers, 0.0, WRITES_AROUND_THE_OUTAGE)
            await asyncio.to_thread(cluster.stop)  # immediate: like a crash
            timeline["down"] = time.monotonic()
            await asyncio.sleep(DOWN)
            timeline["readyz_down"] = (await asyncio.to_thread(probe.get, "/readyz")).status_code
            timeline["healthz_down"] = (await asyncio.to_thread(probe.get, "/healthz")).status_code
            # The server accepts connections a moment before pg_ctl start returns, so "down"
            # ends when the start begins and "up" when it has returned.
            timeline["starting"] = time.monotonic()
            await asyncio.to_thread(cluster.start)
            timeline["up"] = time.monotonic()
            after = await acknowledged_after(writers, timeline["up"], WRITES_AROUND_THE_OUTAGE)
            timeline["recovered"] = after[0] if after else float("inf")
            writers.running = False
            await task

        asyncio.run(scenario())
        timeline["readyz_after"] = probe.get("/readyz").status_code
        errors = server_errors(log)

    results = writers.results
    statuses = {r.status for r in results}
    assert statuses <= {201, 503}, statuses  # never a 500
    during = [
        r for r in results if timeline["down"] < r.started and r.finished < timeline["starting"]
    ]
    assert during
    assert {r.status for r in during} == {503}
    assert timeline["readyz_down"] == 503
    assert timeline["healthz_down"] == 200
    recovery = timeline["recovered"] - timeline["up"]
    assert recovery < RECOVERY_BOUND, f"recovered after {recovery:.1f} s"
    assert timeline["readyz_after"] == 200
    assert errors == []

    with psycopg.connect(cluster.url.replace("postgres://", "postgresql://")) as conn:
        stored = dict(conn.execute("SELECT id, title FROM todos").fetchall())
    acknowledged = {(r.pk, r.title) for r in results if r.status == 201}
    assert acknowledged <= set(stored.items())  # every 201 is in the database
    keyed = {r.title for r in results if r.key}
    keyed_stored = [title for title in stored.values() if title in keyed]
    assert sorted(keyed_stored) == sorted(keyed)  # retried writes: each exactly once
    print(
        f"\n{len(results)} requests, {len(acknowledged)} acknowledged, "
        f"{sum(r.status == 503 for r in results)} answered 503, "
        f"{len(stored)} todos stored; recovered {recovery:.2f} s after the database was back"
    )


async def acknowledged_after(writers, since, count, timeout=30):
    """When the writes started at or after `since` were answered 201, earliest first, once there
    are `count` of them (or fewer, at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        done = sorted(r.finished for r in writers.results if r.status == 201 and r.started >= since)
        if len(done) >= count or time.monotonic() > deadline:
            return done
        await asyncio.sleep(0.05)
