"""The seed's indexes and the earned ones are built concurrently, on a table that already holds
rows."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from todos.models import Todo, TodoList

pytestmark = pytest.mark.django_db(transaction=True)

SEED_INDEXES = [
    "idx_todos_completed",
    "idx_todos_priority",
    "idx_todos_created_at",
    "idx_todos_completed_priority",
]
EARNED_INDEXES = [
    "idx_todos_owner_created",
    "idx_todos_owner_filters",
    "idx_todos_owner_completed",
    "idx_todos_owner_priority",
    "idx_todos_list_position",
    "idx_todos_list_created",
    "idx_todos_parent",
]
VALID_INDEXES_SQL = """
    SELECT i.relname, x.indisvalid, x.indisready
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = 'todos'::regclass
"""


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def indexes():
    with connection.cursor() as cursor:
        cursor.execute(VALID_INDEXES_SQL)
        return {name: (valid, ready) for name, valid, ready in cursor.fetchall()}


def test_the_seed_indexes_are_built_on_a_table_that_already_holds_rows(alice):
    migrate([("todos", "0001_initial")])
    try:
        assert not set(SEED_INDEXES + EARNED_INDEXES) & set(indexes())
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO todos (owner_id, title, description, priority, completed,
                                   created_at, updated_at)
                SELECT %s, 'todo ' || n, '', 1 + n %% 3, n %% 2 = 0, now(), now()
                FROM generate_series(1, 5000) AS n
                """,
                [alice.pk],
            )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    built = indexes()
    for name in SEED_INDEXES + EARNED_INDEXES:
        assert built[name] == (True, True), f"{name} is missing or invalid"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM todos")
        assert cursor.fetchone() == (5000,)


def test_existing_users_get_an_inbox_holding_their_todos_newest_first(alice, bob):
    migrate([("todos", "0005_single_filter_indexes")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO todos (owner_id, title, description, priority, completed,
                                   created_at, updated_at)
                SELECT %s, 'todo ' || n, '', 2, false,
                       now() - (n %% 7) * interval '1 hour', now()
                FROM generate_series(1, 3000) AS n
                """,
                [alice.pk],
            )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    inboxes = TodoList.objects.filter(is_inbox=True)
    assert sorted(inboxes.values_list("owner__username", "name")) == [
        ("alice", "Inbox"),
        ("bob", "Inbox"),
    ]
    inbox = inboxes.get(owner=alice)
    assert Todo.objects.filter(list=inbox).count() == 3000
    in_position_order = list(
        Todo.objects.filter(list=inbox).in_position_order().values_list("pk", flat=True)
    )
    assert in_position_order == list(
        Todo.objects.filter(list=inbox).newest_first().values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    ("migration", "names"),
    [
        ("0002", SEED_INDEXES),
        ("0003", EARNED_INDEXES[:2]),
        ("0005", EARNED_INDEXES[2:4]),
        ("0007", EARNED_INDEXES[4:]),
    ],
)
def test_index_migrations_build_each_index_concurrently_outside_a_transaction(migration, names):
    out = io.StringIO()
    call_command("sqlmigrate", "todos", migration, stdout=out)
    sql = out.getvalue()
    for name in names:
        assert f'CREATE INDEX CONCURRENTLY "{name}" ON "todos"' in sql
    assert "BEGIN;" not in sql
    assert "SET statement_timeout = 0;" in sql
    assert "RESET statement_timeout;" in sql
