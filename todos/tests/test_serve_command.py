import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from todos.db import server_connection_limits
from todos.management.commands.serve import HEADROOM, fit_workers_and_pools, server_budgets
from todos.tests.dbtools import replica_alias

ROOT = Path(__file__).resolve().parents[2]
DJANGO_POOL = {"DB_POOL_MAX_SIZE": 50, "DB_API_POOL_MAX_SIZE": 0}
BOTH_POOLS = {"DB_POOL_MAX_SIZE": 40, "DB_API_POOL_MAX_SIZE": 20}


def fit(workers, pools, budget, explicit=False):
    return fit_workers_and_pools(
        workers=workers, pools=pools, budget=budget, pools_are_explicit=explicit
    )


def test_defaults_that_fit_are_kept():
    assert fit(1, DJANGO_POOL, 92) == (1, DJANGO_POOL, None)


def test_it_lowers_the_pool_max_per_worker_when_the_default_does_not_fit():
    workers, pools, note = fit(2, DJANGO_POOL, 92)
    assert (workers, pools) == (2, {"DB_POOL_MAX_SIZE": 46, "DB_API_POOL_MAX_SIZE": 0})
    assert "connections per worker lowered (50 -> 46)" in note


def test_it_shrinks_both_pools_of_a_worker_to_fit():
    workers, pools, note = fit(2, BOTH_POOLS, 92)
    assert workers == 2
    assert pools == {"DB_POOL_MAX_SIZE": 30, "DB_API_POOL_MAX_SIZE": 15}
    assert workers * sum(pools.values()) <= 92
    assert "connections per worker lowered (60 -> 45)" in note


def test_it_runs_fewer_workers_to_keep_explicit_pool_sizes():
    workers, pools, note = fit(4, BOTH_POOLS, 92, explicit=True)
    assert (workers, pools) == (1, BOTH_POOLS)
    assert "fewer workers (4 -> 1) to keep DB_POOL_MAX_SIZE=40 + DB_API_POOL_MAX_SIZE=20" in note


@pytest.fixture
def replica(db):
    """A replica alias on the test database's own server (its limits are real)."""
    with replica_alias() as replica_connection:
        yield replica_connection


def test_with_a_replica_each_server_has_its_budget_and_the_tighter_one_fits_the_workers(
    settings, replica
):
    settings.DB_CONNECTION_BUDGET, settings.DB_REPLICA_CONNECTION_BUDGET = 100, 30
    assert server_budgets() == [
        ("the primary", 100, "DB_CONNECTION_BUDGET"),
        ("the replica", 30, "DB_REPLICA_CONNECTION_BUDGET"),
    ]
    # Every worker holds its pools and the lag probe's connection on each server.
    workers, pools, note = fit(2, BOTH_POOLS, min(budget for _, budget, _ in server_budgets()))
    assert (workers, pools) == (2, {"DB_POOL_MAX_SIZE": 9, "DB_API_POOL_MAX_SIZE": 4})
    assert "connections per worker lowered (61 -> 14)" in note  # 2 x 14 <= 30


def test_the_replicas_budget_is_its_own_servers_max_connections_less_headroom(settings, replica):
    settings.DB_REPLICA_CONNECTION_BUDGET = None
    [_, (server, budget, source)] = server_budgets()
    limits = server_connection_limits(replica)
    assert (server, budget) == ("the replica", limits["available_connections"] - HEADROOM)
    assert source == (
        f"the replica's max_connections {limits['max_connections']} less "
        f"{limits['reserved_connections']} reserved and {HEADROOM} headroom"
    )


def test_without_a_replica_only_the_primary_counts(settings, db):
    settings.DB_CONNECTION_BUDGET = 100
    assert server_budgets() == [("the primary", 100, "DB_CONNECTION_BUDGET")]


def serve(**env):
    """`manage.py serve` in a process of its own; returns once it has stopped."""
    return subprocess.run(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unreachable_database_stops_with_one_line_naming_database_url():
    result = serve(DATABASE_URL="postgres://postgres@127.0.0.1:1/todos")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "CommandError: Cannot reach PostgreSQL at DATABASE_URL=postgres://postgres@127.0.0.1:1/todos"
    )


@pytest.fixture
def empty_database():
    name = f"test_todos_empty_{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    params = dict(host=db["HOST"], port=db["PORT"], user=db["USER"], autocommit=True)
    with psycopg.connect(dbname="postgres", **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
    with psycopg.connect(dbname="postgres", **params) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_behind_pgbouncer_it_refuses_to_serve_an_unmigrated_database(empty_database):
    result = serve(DATABASE_URL=empty_database, DB_PGBOUNCER="1")
    assert result.returncode == 1
    assert "migrations are not applied" in result.stderr
    assert "directly against PostgreSQL" in result.stderr
    with psycopg.connect(empty_database) as conn:  # and it migrated nothing through PgBouncer
        assert conn.execute("SELECT to_regclass('todos')").fetchone() == (None,)
