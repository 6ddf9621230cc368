import pytest
from django.db import connection

from todos.db import api_pool_connection_kwargs

pytestmark = pytest.mark.django_db

SEED_INDEXES = {
    "idx_todos_completed": "(completed)",
    "idx_todos_priority": "(priority)",
    "idx_todos_created_at": "(created_at)",
    "idx_todos_completed_priority": "(completed, priority)",
}


def test_the_seeds_four_indexes_exist_with_their_columns():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'todos'")
        indexes = dict(cursor.fetchall())
    for name, columns in SEED_INDEXES.items():
        assert name in indexes
        assert indexes[name].endswith(f"USING btree {columns}")


def test_the_pool_is_sized_per_the_seed_with_its_minimum_for_serving_workers_only(settings):
    connection.ensure_connection()
    pool = connection.pool
    assert (settings.DB_POOL_MIN_SIZE, settings.DB_POOL_MAX_SIZE) == (20, 50)
    # A test process is no serving worker: it opens only what it uses (test_frugal_starts.py).
    assert (pool.min_size, pool.max_size) == (0, 50)
    assert pool.max_lifetime == 3600
    assert pool.max_waiting > 0
    assert 0 < pool.timeout <= 10


def test_every_pooled_connection_has_the_timeouts():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("30s",)
    assert connection.connection.info.get_parameters()["connect_timeout"] == "10"


def test_persistent_connections_are_off_and_checked_on_checkout():
    assert connection.settings_dict["CONN_MAX_AGE"] == 0
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_the_api_pool_connects_like_django_and_may_prepare_statements_directly(settings):
    kwargs = api_pool_connection_kwargs()
    db = connection.settings_dict
    assert (kwargs["dbname"], kwargs["host"], kwargs["port"]) == (
        db["NAME"],
        db["HOST"],
        db["PORT"],
    )
    assert kwargs["options"] == f"-c statement_timeout={settings.DB_STATEMENT_TIMEOUT_MS}"
    assert kwargs["connect_timeout"] == 10
    assert kwargs["prepare_threshold"] == 5


def test_the_list_queries_have_their_earned_indexes_and_owner_id_no_other():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'todos'")
        indexes = dict(cursor.fetchall())
    assert indexes["idx_todos_owner_created"].endswith(
        "USING btree (owner_id, created_at DESC, id DESC)"
    )
    assert indexes["idx_todos_owner_filters"].endswith(
        "USING btree (owner_id, completed, priority, created_at DESC, id DESC)"
    )
    assert indexes["idx_todos_owner_completed"].endswith(
        "USING btree (owner_id, completed, created_at DESC, id DESC)"
    )
    assert indexes["idx_todos_owner_priority"].endswith(
        "USING btree (owner_id, priority, created_at DESC, id DESC)"
    )
    assert not [d for d in indexes.values() if d.endswith("USING btree (owner_id)")]
