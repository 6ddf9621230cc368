import pytest
from django.db import connection

from todos.checks import check_connection_budget, check_pgbouncer_role
from todos.db import server_connection_limits
from todos.tests.dbtools import replica_alias

pytestmark = pytest.mark.django_db


def test_it_warns_when_4_workers_x_50_exceed_max_connections(settings):
    # 4 x 50 = 200 exceeds a default server's 100; a server raised past that needs more workers.
    available = server_connection_limits()["available_connections"]
    settings.DB_POOL_MAX_SIZE = 50
    settings.WEB_CONCURRENCY = max(4, available // 50 + 1)
    warnings = check_connection_budget(databases=["default"])
    assert [w.id for w in warnings] == ["todos.W001"]
    assert f"{settings.WEB_CONCURRENCY} workers x " in warnings[0].msg
    assert f"the budget is {available} (PostgreSQL's max_connections" in warnings[0].msg


def test_it_is_quiet_for_1_worker_x_50(settings):
    settings.WEB_CONCURRENCY, settings.DB_POOL_MAX_SIZE = 1, 50  # + the API pool's 16
    assert check_connection_budget(databases=["default"]) == []


def test_it_holds_the_workers_to_an_explicit_budget(settings):
    settings.DB_CONNECTION_BUDGET, settings.DB_POOL_MAX_SIZE = 100, 50
    settings.DB_API_POOL_MAX_SIZE = 0
    settings.WEB_CONCURRENCY = 2
    assert check_connection_budget(databases=["default"]) == []
    settings.WEB_CONCURRENCY = 3
    [warning] = check_connection_budget(databases=["default"])
    assert "3 workers x 50 connections per worker (DB_POOL_MAX_SIZE=50) = 150" in warning.msg
    assert "the budget is 100 (DB_CONNECTION_BUDGET)" in warning.msg


def test_it_counts_the_api_pool_of_every_worker_too(settings):
    settings.DB_CONNECTION_BUDGET, settings.WEB_CONCURRENCY = 100, 2
    settings.DB_POOL_MAX_SIZE, settings.DB_API_POOL_MAX_SIZE = 45, 10
    [warning] = check_connection_budget(databases=["default"])
    assert (
        "2 workers x 55 connections per worker (DB_POOL_MAX_SIZE=45 + DB_API_POOL_MAX_SIZE=10) = 110"
        in warning.msg
    )


def test_behind_pgbouncer_the_budget_is_its_max_client_conn(settings):
    settings.DB_PGBOUNCER, settings.DB_CONNECTION_BUDGET = True, None
    settings.WEB_CONCURRENCY, settings.DB_POOL_MAX_SIZE = 11, 10
    [warning] = check_connection_budget(databases=["default"])
    assert "the budget is 100 (PgBouncer's default max_client_conn)" in warning.msg


def test_it_runs_only_when_databases_are_checked(settings):
    settings.WEB_CONCURRENCY = 10_000
    assert check_connection_budget(databases=None) == []


def test_behind_pgbouncer_it_warns_when_the_role_has_no_statement_timeout(settings):
    settings.DB_PGBOUNCER = True
    assert check_pgbouncer_role(databases=["default"]) == []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")  # undone with the test's transaction
    [warning] = check_pgbouncer_role(databases=["default"])
    assert warning.id == "todos.W002"
    assert "statement_timeout=0" in warning.msg
    assert "configure_role" in warning.hint


def test_the_role_check_is_off_when_connecting_directly(settings):
    settings.DB_PGBOUNCER = False
    assert check_pgbouncer_role(databases=["default"]) == []


@pytest.fixture
def replica(db):
    """A replica alias on the test database's own server: its limits are real, and the budgets
    below tell the two servers apart."""
    with replica_alias() as replica_connection:
        yield replica_connection


def test_with_a_replica_its_pools_count_against_the_replicas_own_budget(settings, replica):
    settings.DB_CONNECTION_BUDGET, settings.DB_REPLICA_CONNECTION_BUDGET = 100, 20
    settings.DB_POOL_MAX_SIZE, settings.DB_API_POOL_MAX_SIZE = 6, 3
    settings.WEB_CONCURRENCY = 2  # 2 x (6 + 3 + the lag probe's 1) = 20 on each server
    assert check_connection_budget(databases=["default", "replica"]) == []
    settings.WEB_CONCURRENCY = 3
    [warning] = check_connection_budget(databases=["default", "replica"])
    assert warning.id == "todos.W001"
    assert warning.msg.startswith(
        "the replica: 3 workers x 10 connections per worker (DB_POOL_MAX_SIZE=6 + "
        "DB_API_POOL_MAX_SIZE=3 + 1 for the replica's lag probe) = 30 connections, "
        "but the budget is 20 (DB_REPLICA_CONNECTION_BUDGET)."
    )


def test_the_primary_and_the_replica_are_each_held_to_their_own_budget(settings, replica):
    settings.DB_CONNECTION_BUDGET, settings.DB_REPLICA_CONNECTION_BUDGET = 20, 100
    settings.DB_POOL_MAX_SIZE, settings.DB_API_POOL_MAX_SIZE = 6, 3
    settings.WEB_CONCURRENCY = 3
    [warning] = check_connection_budget(databases=["default", "replica"])
    assert warning.msg.startswith("3 workers x 10 connections per worker")
    assert "the budget is 20 (DB_CONNECTION_BUDGET)" in warning.msg
    assert check_connection_budget(databases=["replica"]) == []


def test_the_replicas_budget_is_its_servers_max_connections_unless_set(settings, replica):
    available = server_connection_limits(replica)["available_connections"]
    settings.DB_CONNECTION_BUDGET, settings.DB_REPLICA_CONNECTION_BUDGET = 10_000, None
    settings.DB_POOL_MAX_SIZE, settings.DB_API_POOL_MAX_SIZE = 49, 0
    settings.WEB_CONCURRENCY = available // 50 + 1
    [warning] = check_connection_budget(databases=["default", "replica"])
    assert warning.msg.startswith(f"the replica: {settings.WEB_CONCURRENCY} workers x 50 ")
    assert f"the budget is {available} (the replica's max_connections" in warning.msg


def test_without_a_replica_the_replica_is_not_checked(settings):
    settings.WEB_CONCURRENCY, settings.DB_CONNECTION_BUDGET = 2, 1000
    assert check_connection_budget(databases=["default", "replica"]) == []
    settings.DB_POOL_MAX_SIZE, settings.DB_API_POOL_MAX_SIZE = 6, 3
    settings.DB_CONNECTION_BUDGET = 17
    [warning] = check_connection_budget(databases=["default"])
    assert "2 workers x 9 connections per worker" in warning.msg  # no lag probe
