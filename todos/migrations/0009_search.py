"""Search (?q=): a GIN index of each todo's words (todos.models.SearchDocument), built without
locking writes out (CONCURRENTLY). About 11 s at a million rows here (docs/search.md)."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations

import todos.models
from todos.migrations._timeouts import NO_STATEMENT_TIMEOUT, RESTORE_STATEMENT_TIMEOUT


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("todos", "0008_user_rows_cascade_in_the_database"),
    ]

    operations = [
        NO_STATEMENT_TIMEOUT,
        AddIndexConcurrently(
            model_name="todo",
            index=django.contrib.postgres.indexes.GinIndex(
                todos.models.SearchDocument(), name="idx_todos_search"
            ),
        ),
        RESTORE_STATEMENT_TIMEOUT,
    ]
