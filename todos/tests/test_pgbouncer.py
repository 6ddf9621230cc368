"""Behind PgBouncer in transaction mode (the --pgbouncer pass of bin/test, DB_PGBOUNCER=1)."""

import asyncio
import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from conftest import django_transport_only
from todos.checks import check_pgbouncer_role
from todos.db import api_pool_connection_kwargs
from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


@django_transport_only  # looks at this test's own open transaction
def test_api_requests_reach_postgresql_through_pgbouncer(pgbouncer, alice_api):
    created = alice_api.post("/api/todo", {"title": "via the bouncer"}, format="json")
    listed = alice_api.get("/api/todo")

    assert created.status_code == 201
    assert [todo["title"] for todo in listed.json()["results"]] == ["via the bouncer"]
    # The test's transaction is still open, so PgBouncer still links it to its server connection.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [backend_pid] = cursor.fetchone()
    active = [row for row in pgbouncer.admin("SHOW SERVERS") if row["state"] == "active"]
    assert backend_pid in [row["remote_pid"] for row in active]


def test_the_role_gives_every_connection_the_statement_timeout_and_utc(pgbouncer, settings):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('TimeZone')")
        assert cursor.fetchone() == (f"{settings.DB_STATEMENT_TIMEOUT_MS // 1000}s", "UTC")
    assert check_pgbouncer_role(databases=["default"]) == []


def test_connections_carry_no_options_and_prepare_no_statements(pgbouncer, settings):
    params = connection.get_connection_params()
    assert "options" not in params
    assert params["prepare_threshold"] is None
    assert settings.DB_PREPARE_THRESHOLD is None
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_iterating_a_large_queryset_works_without_server_side_cursors(pgbouncer, alice):
    Todo.objects.bulk_create(Todo(owner=alice, title=f"t{n}") for n in range(50))
    titles = [todo.title for todo in Todo.objects.order_by("id").iterator(chunk_size=7)]
    assert titles == [f"t{n}" for n in range(50)]


@pytest.mark.django_db(transaction=True)
def test_a_statement_timeout_from_the_role_answers_503_and_recovers(
    pgbouncer, alice, alice_api, settings
):
    todo = create_todo(owner=alice, title="locked")
    db = connection.settings_dict
    name = connection.ops.quote_name(db["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER ROLE CURRENT_USER IN DATABASE {name} SET statement_timeout = 200")
    pgbouncer.admin("RECONNECT")  # server connections pick up role settings when they log in
    try:
        with psycopg.connect(
            dbname=db["NAME"],
            host="127.0.0.1",
            port=pgbouncer.settings["server_port"],
            user=db["USER"],
        ) as locker:
            locker.execute("LOCK TABLE todos IN ACCESS EXCLUSIVE MODE")
            response = alice_api.get(f"/api/todo/{todo.pk}")
            assert response.status_code == 503
            assert response["Retry-After"] == "1"
    finally:
        call_command("configure_role", stdout=io.StringIO())
        pgbouncer.admin("RECONNECT")
    assert alice_api.get(f"/api/todo/{todo.pk}").status_code == 200


def test_the_api_pools_connections_work_through_pgbouncer_without_prepared_statements(
    pgbouncer,
):
    kwargs = api_pool_connection_kwargs()
    assert "options" not in kwargs
    assert kwargs["prepare_threshold"] is None
    assert kwargs["port"] == str(pgbouncer.port)

    async def run_the_same_query_ten_times():
        async with await psycopg.AsyncConnection.connect(autocommit=True, **kwargs) as conn:
            for n in range(10):  # past psycopg's default threshold of 5
                cursor = await conn.execute("SELECT %s::int + 1", [n])
                assert await cursor.fetchone() == (n + 1,)
            cursor = await conn.execute("SELECT count(*) FROM pg_prepared_statements")
            return (await cursor.fetchone())[0]

    assert asyncio.run(run_the_same_query_ten_times()) == 0
