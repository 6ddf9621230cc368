"""Two nodes (`manage.py serve`, two workers each) behind Debian's HAProxy checking /readyz
(bin/install-haproxy): a rolling restart (SIGTERM one node, start it again, then the other) under
a mixed load of lists, creates and updates fails no request, and every acknowledged write is in
the database afterwards."""

import asyncio
import csv
import io
import itertools
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token

from todos.models import Todo
from todos.tests.dbtools import wait_until
from todos.tests.real_servers import SERVER_PORTS, Served, database_url, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.direct_only, pytest.mark.slow]

NODE = {
    "WEB_CONCURRENCY": "2",
    "DB_POOL_MIN_SIZE": "1",
    "DB_POOL_MAX_SIZE": "6",
    "DB_API_POOL_MAX_SIZE": "3",
    "GRACEFUL_DRAIN_SECONDS": "1.5",  # > HAProxy's fall 2 x inter 200ms, with room to spare
    "GRACEFUL_TIMEOUT": "20",
}
CLIENTS = 6
USERS = 3
ACKNOWLEDGED_BETWEEN_STEPS = 30  # successful requests seen after each node is back

HAPROXY_CONFIG = """
global
    stats socket {dir}/admin.sock mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch 1
frontend api
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    option httpchk GET /readyz
    http-check expect status 200
    # A check may take a moment on a busy machine (without this its timeout is `inter`).
    timeout check 3s
    default-server inter 200ms fall 2 rise 2
{servers}
"""


class HAProxy:
    def __init__(self, nodes):
        self.dir = Path(tempfile.mkdtemp(prefix="todos-haproxy-"))
        self.port = free_port(SERVER_PORTS)
        self.url = f"http://127.0.0.1:{self.port}"
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{node.port} check" for name, node in nodes.items()
        )
        config = self.dir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(dir=self.dir, port=self.port, servers=servers))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.log = open(self.dir / "haproxy.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [haproxy, "-db", "-f", str(config)], stdout=self.log, stderr=subprocess.STDOUT
        )

    def states(self):
        """{server name: "UP" | "DOWN" | ...} from HAProxy's stats socket."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.dir / "admin.sock"))
            sock.sendall(b"show stat\n")
            data = b"".join(iter(lambda: sock.recv(65536), b""))
        rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
        return {row["svname"]: row["status"] for row in rows if row["pxname"] == "nodes"}

    def wait_for(self, name, state, timeout=60):
        def reached():
            try:
                return self.states().get(name, "").startswith(state)
            except OSError:
                return False  # the socket is not there yet

        wait_until(reached, timeout=timeout, what=f"HAProxy sees {name} {state}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class MixedLoad:
    """Clients listing, creating and completing todos through HAProxy until stopped; every
    answer is recorded, and a transport error or an unexpected status is a failure."""

    def __init__(self, base_url, tokens):
        self.base_url, self.tokens = base_url, tokens
        self.running = True
        self.answers = []  # (kind, status)
        self.failures = []
        self.created = {}  # id -> title, acknowledged with 201
        self.completed = set()  # ids acknowledged completed with 200
        self._serial = itertools.count()

    def succeeded(self):
        return sum(1 for _, status in self.answers if status in (200, 201))

    async def run(self):
        await asyncio.gather(*(self._client(n) for n in range(CLIENTS)))

    async def _client(self, number):
        token = self.tokens[number % len(self.tokens)]
        headers = {"Authorization": f"Token {token}"}
        rng = random.Random(number)
        mine = []
        async with httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30) as c:
            while self.running:
                kind = rng.choices(["list", "create", "complete"], [5, 3, 2])[0]
                if kind == "complete" and not mine:
                    kind = "create"
                try:
                    await self._one(c, kind, mine)
                except httpx.HTTPError as exc:
                    self.failures.append((kind, repr(exc)))
                await asyncio.sleep(0.01)

    async def _one(self, client, kind, mine):
        if kind == "list":
            response = await client.get("/api/todo", params={"page_size": 20})
            expected = 200
        elif kind == "create":
            title = f"rolling {next(self._serial)}"
            response = await client.post("/api/todo", json={"title": title})
            expected = 201
            if response.status_code == 201:
                self.created[response.json()["id"]] = title
                mine.append(response.json()["id"])
        else:
            pk = mine.pop(0)
            response = await client.patch(f"/api/todo/{pk}", json={"completed": True})
            expected = 200
            if response.status_code == 200:
                self.completed.add(pk)
        self.answers.append((kind, response.status_code))
        if response.status_code != expected:
            self.failures.append((kind, response.status_code, response.text[:200]))


@pytest.fixture
def tokens():
    users = [User.objects.create_user(username=f"rolling-{n}") for n in range(USERS)]
    return [Token.objects.create(user=user).key for user in users]


@pytest.fixture
def cluster_of_two(django_db_blocker):
    url = database_url(connection.settings_dict)
    with django_db_blocker.unblock():
        nodes = {"a": Served(url, **NODE), "b": Served(url, **NODE)}
    proxy = HAProxy(nodes)
    yield url, nodes, proxy
    proxy.stop()
    for node in nodes.values():
        node.remove()


def test_a_rolling_restart_under_load_fails_no_request_and_loses_no_write(cluster_of_two, tokens):
    url, nodes, proxy = cluster_of_two
    for name in nodes:
        proxy.wait_for(name, "UP")
    load = MixedLoad(proxy.url, tokens)
    restarts = []

    async def scenario():
        task = asyncio.create_task(load.run())
        await until_succeeded(load, ACKNOWLEDGED_BETWEEN_STEPS)
        for name in list(nodes):
            other = next(n for n in nodes if n != name)
            await asyncio.to_thread(proxy.wait_for, other, "UP")
            started = time.monotonic()
            status = await asyncio.to_thread(nodes[name].stop)
            restarts.append((name, status, time.monotonic() - started))
            old = nodes[name]
            nodes[name] = await asyncio.to_thread(Served, url, port=old.port, **NODE)
            old.remove()
            await asyncio.to_thread(proxy.wait_for, name, "UP")
            await until_succeeded(load, load.succeeded() + ACKNOWLEDGED_BETWEEN_STEPS)
        load.running = False
        await task

    asyncio.run(scenario())

    assert [(name, status) for name, status, _ in restarts] == [("a", 0), ("b", 0)]
    assert all(took < float(NODE["GRACEFUL_TIMEOUT"]) for _, _, took in restarts), restarts
    assert load.failures == []
    stored = dict(Todo.objects.filter(pk__in=load.created).values_list("pk", "title"))
    lost = {pk: title for pk, title in load.created.items() if stored.get(pk) != title}
    assert lost == {}
    completed = set(Todo.objects.filter(pk__in=load.completed, completed=True).values_list("pk"))
    assert {pk for (pk,) in completed} == load.completed
    by_kind = {kind: sum(1 for k, _ in load.answers if k == kind) for kind in ("list", "create")}
    print(
        f"\nrolling restart: {len(load.answers)} requests ({by_kind['list']} lists, "
        f"{by_kind['create']} creates, {len(load.answers) - sum(by_kind.values())} completes), "
        f"{len(load.failures)} failed; {len(load.created)} creates and {len(load.completed)} "
        f"completes acknowledged, {len(lost)} lost; node stops took "
        + ", ".join(f"{name} {took:.1f} s" for name, _, took in restarts)
    )


async def until_succeeded(load, count, timeout=120):
    deadline = time.monotonic() + timeout
    while load.succeeded() < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {load.succeeded()} of {count} requests succeeded")
        await asyncio.sleep(0.05)
