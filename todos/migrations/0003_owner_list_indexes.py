# Two indexes the API's list queries earned at a million rows (docs/benchmarks.md, "Indexes at
# 1,000,000 rows"), built concurrently like the seed's four (see 0002). Once the first exists, the
# foreign key's own index on owner_id is redundant (owner_id leads it) and is dropped last.

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
import django.db.models.deletion

from todos.migrations._timeouts import NO_STATEMENT_TIMEOUT, RESTORE_STATEMENT_TIMEOUT


def _owner_id_indexes(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, "todos")
    return [
        name
        for name, c in constraints.items()
        if c["index"] and c["columns"] == ["owner_id"] and not (c["primary_key"] or c["unique"])
    ]


def drop_owner_id_index(apps, schema_editor):
    for name in _owner_id_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


def create_owner_id_index(apps, schema_editor):
    if not _owner_id_indexes(schema_editor):
        schema_editor.execute('CREATE INDEX CONCURRENTLY "todos_owner_id_idx" ON "todos" ("owner_id")')


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('todos', '0002_seed_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        NO_STATEMENT_TIMEOUT,
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(fields=['owner', '-created_at', '-id'], name='idx_todos_owner_created'),
        ),
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(
                fields=['owner', 'completed', 'priority', '-created_at', '-id'],
                name='idx_todos_owner_filters',
            ),
        ),
        RESTORE_STATEMENT_TIMEOUT,
        # AlterField would drop and re-add the foreign key constraint too (re-checking every row
        # under a write lock); only the index goes, concurrently.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='todo',
                    name='owner',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='todos', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_owner_id_index, create_owner_id_index),
            ],
        ),
    ]
