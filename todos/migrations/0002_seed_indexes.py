# The seed's four indexes, built with CREATE INDEX CONCURRENTLY so that a live table of millions
# of rows keeps taking writes while they build. CONCURRENTLY cannot run inside a transaction,
# hence atomic = False; run migrations directly against PostgreSQL, not through PgBouncer.
# If a build fails it leaves an INVALID index behind: DROP INDEX CONCURRENTLY it and migrate again.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

from todos.migrations._timeouts import NO_STATEMENT_TIMEOUT, RESTORE_STATEMENT_TIMEOUT


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('todos', '0001_initial'),
    ]

    operations = [
        NO_STATEMENT_TIMEOUT,
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(fields=['completed'], name='idx_todos_completed'),
        ),
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(fields=['priority'], name='idx_todos_priority'),
        ),
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(fields=['created_at'], name='idx_todos_created_at'),
        ),
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(fields=['completed', 'priority'], name='idx_todos_completed_priority'),
        ),
        RESTORE_STATEMENT_TIMEOUT,
    ]
