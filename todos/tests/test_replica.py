"""Reads from a streaming replica, on throwaway clusters of the module's own: a primary and a
standby made with `pg_basebackup -R`, and a server reading from the standby (DATABASE_REPLICA_URL).
With replay paused a user's write is in that user's next read, while a row changed behind the
app's back on the primary is not (so reads go to the replica); with the standby stopped reads
still answer, with no 5xx, and once it is back it is read from again."""

import httpx
import psycopg
import pytest

from todos.tests.dbtools import wait_until
from todos.tests.real_servers import Cluster, manage, running_server, server_errors

pytestmark = [pytest.mark.slow, pytest.mark.direct_only]

SERVER = {
    "DB_POOL_MIN_SIZE": "1",
    "DB_POOL_MAX_SIZE": "4",
    "DB_API_POOL_MAX_SIZE": "3",
    "DB_POOL_TIMEOUT": "1",
    "DB_CONNECT_TIMEOUT": "2",
    # Replay stays paused for a while in the first test: the replica must still be used.
    "DB_REPLICA_MAX_LAG_SECONDS": "300",
    "DB_REPLICA_CHECK_SECONDS": "0.2",
}
USERS = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from todos.models import Todo
alice, bob = User.objects.create_user("alice"), User.objects.create_user("bob")
todo = Todo.objects.create(owner=bob, title="as first written")
print(Token.objects.create(user=alice).key, Token.objects.create(user=bob).key, todo.pk)
"""


def sql(cluster, statement, *params):
    url = cluster.url.replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture(scope="module")
def clusters():
    primary, standby = Cluster(), None
    try:
        primary.start()
        with psycopg.connect(
            f"postgres://postgres@127.0.0.1:{primary.port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE todos")
        manage("migrate", "--no-input", database_url=primary.url)
        standby = Cluster(primary=primary)
        standby.start()
        yield primary, standby
    finally:
        if standby is not None:
            standby.destroy()
        primary.destroy()


@pytest.fixture(scope="module")
def service(clusters):
    primary, standby = clusters
    out = manage("shell", "-v", "0", "-c", USERS, database_url=primary.url).stdout.split()
    alice_token, bob_token, bob_todo = out[-3], out[-2], int(out[-1])
    with running_server(primary.url, DATABASE_REPLICA_URL=standby.url, **SERVER) as (url, log):
        clients = {
            name: httpx.Client(
                base_url=url, headers={"Authorization": f"Token {token}"}, timeout=30
            )
            for name, token in (("alice", alice_token), ("bob", bob_token))
        }
        yield url, log, clients, bob_todo
        for client in clients.values():
            client.close()


def replica_state(url):
    return httpx.get(f"{url}/readyz", timeout=10).json()["replica"]


def bobs_title(clients, pk):
    response = clients["bob"].get(f"/api/todo/{pk}")
    assert response.status_code == 200, response.text
    return response.json()["title"]


def test_with_replay_paused_a_users_write_is_in_their_next_read_and_a_change_behind_the_apps_back_is_not(
    clusters, service
):
    primary, standby = clusters
    url, log, clients, bob_todo = service
    wait_until(lambda: replica_state(url)["usable"], timeout=30, what="the replica in use")
    assert bobs_title(clients, bob_todo) == "as first written"

    sql(standby, "SELECT pg_wal_replay_pause()")
    try:
        wait_until(
            lambda: sql(standby, "SELECT pg_get_wal_replay_pause_state()")[0][0] == "paused",
            what="replay paused",
        )
        sql(primary, "UPDATE todos SET title = 'changed behind the app' WHERE id = %s", bob_todo)

        created = clients["alice"].post("/api/todo", json={"title": "written while paused"})
        assert created.status_code == 201
        mine = created.json()["id"]
        listed = clients["alice"].get("/api/todo").json()["results"]
        assert [todo["id"] for todo in listed] == [mine]  # read your own write
        assert clients["alice"].get(f"/api/todo/{mine}").status_code == 200

        # Bob wrote nothing: his read is the replica's, from before the change.
        assert bobs_title(clients, bob_todo) == "as first written"
        assert replica_state(url)["usable"]
    finally:
        sql(standby, "SELECT pg_wal_replay_resume()")
    wait_until(
        lambda: bobs_title(clients, bob_todo) == "changed behind the app",
        timeout=30,
        what="the replica caught up",
    )
    assert server_errors(log) == []


def test_with_the_replica_stopped_reads_still_answer_and_it_is_used_again_once_back(
    clusters, service
):
    primary, standby = clusters
    url, log, clients, bob_todo = service
    wait_until(lambda: replica_state(url)["usable"], timeout=30, what="the replica in use")

    standby.stop()
    statuses = []
    for _ in range(20):
        statuses.append(clients["bob"].get(f"/api/todo/{bob_todo}").status_code)
        statuses.append(clients["bob"].get("/api/todo").status_code)
    assert set(statuses) == {200}
    assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    wait_until(lambda: not replica_state(url)["usable"], timeout=10, what="the replica skipped")

    standby.start()
    wait_until(lambda: replica_state(url)["usable"], timeout=60, what="the replica used again")
    sql(primary, "UPDATE todos SET title = 'after the restart' WHERE id = %s", bob_todo)
    wait_until(lambda: bobs_title(clients, bob_todo) == "after the restart", timeout=30)
    assert server_errors(log) == []
