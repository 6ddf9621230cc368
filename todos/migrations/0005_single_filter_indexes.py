# A list filtered on completed alone or on priority alone had no index in its order: for a user
# with a million todos PostgreSQL walked idx_todos_created_at backwards through every other user's
# newer todos (23 ms instead of 0.03 ms; docs/benchmarks.md, "Indexes at 1,000,000 rows"). Built
# concurrently like the others (see 0002).

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

from todos.migrations._timeouts import NO_STATEMENT_TIMEOUT, RESTORE_STATEMENT_TIMEOUT


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('todos', '0004_idempotency_keys'),
    ]

    operations = [
        NO_STATEMENT_TIMEOUT,
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(
                fields=['owner', 'completed', '-created_at', '-id'],
                name='idx_todos_owner_completed',
            ),
        ),
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(
                fields=['owner', 'priority', '-created_at', '-id'], name='idx_todos_owner_priority'
            ),
        ),
        RESTORE_STATEMENT_TIMEOUT,
    ]
