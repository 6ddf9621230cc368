"""Reads from a streaming replica, on throwaway clusters of the module's own: a primary and a
standby made with `pg_basebackup -R`, and a server reading from the standby (DATABASE_REPLICA_URL).
With replay paused a user's write is in that user's next read, while a row changed behind the
app's back on the primary is not (so reads go to the replica: the API's, the pages' and the
admin's change list); with the standby stopped reads still answer, with no 5xx, and once it is
back it is read from again. /metrics shows the replica's pools beside the primary's.

In the --pgbouncer pass (DB_PGBOUNCER=1) the server reaches the primary through a PgBouncer of
the module's own in transaction mode, as a deployment behind PgBouncer does; the replica is
reached directly (a standby behind a PgBouncer of its own would look the same to the app)."""

import contextlib

import httpx
import psycopg
import pytest

from todos.management.commands.serve import collect_static_files_if_changed
from todos.tests.dbtools import wait_until
from todos.tests.metrics_tools import samples, value
from todos.tests.pgbouncer import LocalPgBouncer
from todos.tests.real_servers import Cluster, manage, running_server, server_errors

pytestmark = [pytest.mark.slow, pytest.mark.both_passes]

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
# bob never writes through the app (his todo changes behind its back), so he is never pinned to
# the primary; sam is staff with a session made outside the app (a login would pin him).
USERS = """
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token
from todos.models import Todo
alice, bob = User.objects.create_user("alice"), User.objects.create_user("bob")
sam = User.objects.create_superuser("sam")
todo = Todo.objects.create(owner=bob, title="as first written")
client = Client()
client.force_login(sam)
tokens = Token.objects.create(user=alice).key, Token.objects.create(user=bob).key
print(*tokens, client.cookies["sessionid"].value, todo.pk)
"""
ADMIN_TODOS = "/admin/todos/todo/"


def sql(cluster, statement, *params):
    url = cluster.url.replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture(scope="module")
def clusters(request):
    """(primary, standby, the URL the app reaches the primary at, the PgBouncer or None)."""
    primary, standby, bouncer = Cluster(), None, None
    try:
        primary.start()
        with psycopg.connect(
            f"postgres://postgres@127.0.0.1:{primary.port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE todos")
        manage("migrate", "--no-input", database_url=primary.url)
        app_url = primary.url
        if request.config.getoption("pgbouncer"):
            # As docs/scaling.md has it: migrate and configure the role directly, serve through it.
            manage("configure_role", database_url=primary.url)
            bouncer = LocalPgBouncer(server_port=primary.port).start()
            app_url = f"postgres://postgres@127.0.0.1:{bouncer.port}/todos"
        standby = Cluster(primary=primary)
        standby.start()
        yield primary, standby, app_url, bouncer
    finally:
        if bouncer is not None:
            bouncer.stop()
        if standby is not None:
            standby.destroy()
        primary.destroy()


@pytest.fixture(scope="module")
def static_files():
    """The pages' static files as a server finds them after `serve` (its manifest), collected
    only if they changed since the last collection."""
    collect_static_files_if_changed()


@pytest.fixture(scope="module")
def users(clusters, static_files):
    primary, *_ = clusters
    out = manage("shell", "-v", "0", "-c", USERS, database_url=primary.url).stdout.split()
    alice_token, bob_token, sam_session, bob_todo = out[-4:]
    return {"alice": alice_token, "bob": bob_token, "sam": sam_session}, int(bob_todo)


def clients_of(url, users):
    tokens, _ = users
    made = {
        name: httpx.Client(base_url=url, headers={"Authorization": f"Token {tokens[name]}"})
        for name in ("alice", "bob")
    }
    made["sam"] = httpx.Client(base_url=url, cookies={"sessionid": tokens["sam"]})
    for client in made.values():
        client.timeout = 30
    return made


@pytest.fixture(scope="module")
def service(clusters, users):
    _, standby, app_url, _ = clusters
    with running_server(app_url, DATABASE_REPLICA_URL=standby.url, **SERVER) as (url, log):
        clients = clients_of(url, users)
        yield url, log, clients, users[1]
        for client in clients.values():
            client.close()


def replica_state(url):
    return httpx.get(f"{url}/readyz", timeout=10).json()["replica"]


def bobs_title(clients, pk):
    response = clients["bob"].get(f"/api/todo/{pk}")
    assert response.status_code == 200, response.text
    return response.json()["title"]


def admin_titles(clients):
    response = clients["sam"].get(ADMIN_TODOS)
    assert response.status_code == 200, response.text[:500]
    assert "Select todo to change" in response.text  # the change list, not the login page
    return response.text


@contextlib.contextmanager
def replay_paused(standby):
    sql(standby, "SELECT pg_wal_replay_pause()")
    try:
        wait_until(
            lambda: sql(standby, "SELECT pg_get_wal_replay_pause_state()")[0][0] == "paused",
            what="replay paused",
        )
        yield
    finally:
        sql(standby, "SELECT pg_wal_replay_resume()")


def test_with_replay_paused_a_users_write_is_in_their_next_read_and_a_change_behind_the_apps_back_is_not(
    clusters, service
):
    primary, standby, *_ = clusters
    url, log, clients, bob_todo = service
    wait_until(lambda: replica_state(url)["usable"], timeout=30, what="the replica in use")
    assert bobs_title(clients, bob_todo) == "as first written"

    with replay_paused(standby):
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
    wait_until(
        lambda: bobs_title(clients, bob_todo) == "changed behind the app",
        timeout=30,
        what="the replica caught up",
    )
    assert server_errors(log) == []


def test_the_sync_feed_reads_the_primary_so_replica_lag_never_hides_a_change(clusters, service):
    primary, standby, *_ = clusters
    url, log, clients, bob_todo = service
    wait_until(lambda: replica_state(url)["usable"], timeout=30, what="the replica in use")
    token = clients["bob"].get("/api/sync").json()["token"]

    with replay_paused(standby):
        sql(primary, "UPDATE todos SET title = 'synced past the lag' WHERE id = %s", bob_todo)
        assert bobs_title(clients, bob_todo) != "synced past the lag"  # the replica's copy
        changed = clients["bob"].get("/api/sync", params={"token": token})
        assert changed.status_code == 200, changed.text
        assert [(t["id"], t["title"]) for t in changed.json()["todos"]] == [
            (bob_todo, "synced past the lag")
        ]
    assert server_errors(log) == []


def test_the_admins_change_list_reads_from_the_replica(clusters, service):
    primary, standby, *_ = clusters
    _, log, clients, _ = service
    created = clients["alice"].post("/api/todo", json={"title": "seen by the admin"})
    assert created.status_code == 201
    wait_until(
        lambda: "seen by the admin" in admin_titles(clients), timeout=30, what="on the replica"
    )

    with replay_paused(standby):
        sql(
            primary,
            "UPDATE todos SET title = 'renamed behind the app' WHERE id = %s",
            created.json()["id"],
        )
        text = admin_titles(clients)
        assert "seen by the admin" in text  # the replica's copy, from before the change
        assert "renamed behind the app" not in text
    wait_until(
        lambda: "renamed behind the app" in admin_titles(clients),
        timeout=30,
        what="the replica caught up",
    )
    assert server_errors(log) == []


def scraped(url):
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    return samples(response.text)


def test_metrics_count_the_replicas_pools_beside_the_primarys(service):
    url, log, clients, bob_todo = service
    wait_until(lambda: replica_state(url)["usable"], timeout=30, what="the replica in use")
    before = scraped(url)
    for pool, bound in (("django", 4), ("lane", 3), ("django_replica", 4), ("lane_replica", 3)):
        assert value(before, "todos_db_pool_max_size", pool=pool) == bound, pool

    assert clients["bob"].get(f"/api/todo/{bob_todo}").status_code == 200  # the lane's replica pool
    assert clients["sam"].get(ADMIN_TODOS).status_code == 200  # Django's replica pool
    after = scraped(url)

    def checkouts(pool):
        grown = value(after, "todos_db_pool_checkouts_total", pool=pool)
        return grown - value(before, "todos_db_pool_checkouts_total", pool=pool)

    assert checkouts("lane_replica") >= 1
    assert checkouts("django_replica") >= 1
    assert value(after, "todos_db_pool_size", pool="django_replica") >= 1
    assert server_errors(log) == []


def test_with_the_replica_stopped_reads_still_answer_and_it_is_used_again_once_back(
    clusters, service
):
    primary, standby, *_ = clusters
    url, log, clients, bob_todo = service
    wait_until(lambda: replica_state(url)["usable"], timeout=30, what="the replica in use")

    standby.stop()
    statuses = []
    try:
        for _ in range(10):
            statuses.append(clients["bob"].get(f"/api/todo/{bob_todo}").status_code)
            statuses.append(clients["bob"].get("/api/todo").status_code)
            statuses.append(clients["sam"].get("/").status_code)
            statuses.append(clients["sam"].get(ADMIN_TODOS).status_code)
        assert set(statuses) == {200}
        assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
        wait_until(lambda: not replica_state(url)["usable"], timeout=10, what="replica skipped")
    finally:
        standby.start()
    wait_until(lambda: replica_state(url)["usable"], timeout=60, what="the replica used again")
    sql(primary, "UPDATE todos SET title = 'after the restart' WHERE id = %s", bob_todo)
    wait_until(lambda: bobs_title(clients, bob_todo) == "after the restart", timeout=30)
    assert server_errors(log) == []


def test_a_page_read_that_fails_on_a_replica_gone_since_the_last_probe_is_answered_on_the_primary(
    clusters, users
):
    """A probe long ago found the replica fine; it is gone now. The first read to reach it fails
    and is answered again on the primary (the replica marked down), with no error."""
    _, standby, app_url, _ = clusters
    no_probe_for_a_while = {**SERVER, "DB_REPLICA_CHECK_SECONDS": "300"}
    with running_server(app_url, DATABASE_REPLICA_URL=standby.url, **no_probe_for_a_while) as (
        url,
        log,
    ):
        clients = clients_of(url, users)
        wait_until(lambda: replica_state(url)["usable"], timeout=30, what="the first probe")
        assert clients["sam"].get("/").status_code == 200  # the replica's pool is open

        standby.stop()
        try:
            assert replica_state(url)["usable"]  # no probe has noticed
            assert "Select todo to change" in admin_titles(clients)
            assert not replica_state(url)["usable"]  # the failed read marked it down
            assert clients["sam"].get("/").status_code == 200
            assert clients["bob"].get("/api/todo").status_code == 200
        finally:
            standby.start()
            for client in clients.values():
                client.close()
        assert server_errors(log) == []
        assert "replica read failed, answered on the primary" in log.read_text()


def test_in_the_pgbouncer_pass_the_primary_is_reached_through_pgbouncer(clusters, service):
    *_, bouncer = clusters
    if bouncer is None:
        pytest.skip("the direct pass: the app connects to the primary itself")
    _, log, clients, _ = service

    def transactions():
        return sum(row["total_xact_count"] for row in bouncer.admin("SHOW STATS"))

    before = transactions()
    assert (
        clients["alice"].post("/api/todo", json={"title": "through PgBouncer"}).status_code == 201
    )
    assert transactions() > before
    assert {row["database"] for row in bouncer.admin("SHOW CLIENTS")} >= {"todos"}
    assert server_errors(log) == []
