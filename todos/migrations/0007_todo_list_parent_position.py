# Lists, subtasks and manual order (docs/lists.md, "The migration"), on a live table of millions
# of todos: no statement here holds a lock that blocks writers for longer than a moment.
#
# - The new columns are added nullable, with no default and no constraint: a catalog change.
# - Every user gets an Inbox, and every todo is filed into its owner's Inbox with a position
#   (newest first, as the list showed them), in batches by id range, each its own transaction:
#   a writer waits at most for the batch that holds its row.
# - NOT NULL and the foreign keys are added NOT VALID (enforced from then on, a catalog change)
#   and then validated, which only takes a lock that lets writes through; SET NOT NULL then
#   uses the validated check instead of scanning the table.
# - The three indexes are built concurrently, like the others (see 0002).
#
# The foreign keys delete in the database (ON DELETE CASCADE): deleting a list or a parent is
# one statement, and Django's model says DO_NOTHING.

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone

from todos.migrations._timeouts import NO_STATEMENT_TIMEOUT, RESTORE_STATEMENT_TIMEOUT

BATCH = 2_000

CREATE_INBOXES = """
    INSERT INTO todo_lists (owner_id, name, is_inbox, created_at, updated_at)
    SELECT id, 'Inbox', true, now(), now() FROM auth_user
    ON CONFLICT DO NOTHING
"""
# The Inbox position of an existing todo: integer part "a0", then a fraction that sorts newest
# first (created_at, then id, both counted down in fixed-width hex) and ends in a non-zero digit,
# a key of todos.positions. New todos ("R...") come before all of these.
FILE_INTO_INBOX = """
    UPDATE todos t
    SET list_id = l.id,
        position = 'a0'
            || lpad(to_hex(72057594037927935
                           - greatest(0, (extract(epoch FROM t.created_at) * 1000000)::bigint)), 14, '0')
            || lpad(to_hex(9223372036854775807 - t.id), 16, '0')
            || 'V'
    FROM todo_lists l
    WHERE l.owner_id = t.owner_id AND l.is_inbox AND t.list_id IS NULL {where}
"""


def file_todos_into_inboxes(apps, schema_editor):
    execute = schema_editor.execute
    execute(CREATE_INBOXES)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM todos")
        low, high = cursor.fetchone()
    if low is not None:
        for start in range(low, high + 1, BATCH):
            execute(FILE_INTO_INBOX.format(where="AND t.id >= %s AND t.id < %s"), [start, start + BATCH])
    # From here a todo without a list or a position is refused; then the ones written by the old
    # code while the batches ran are filed (a scan, but no lock that stops writers).
    execute(
        "ALTER TABLE todos ADD CONSTRAINT todos_filed CHECK "
        "(list_id IS NOT NULL AND position IS NOT NULL) NOT VALID"
    )
    execute(CREATE_INBOXES)
    execute(FILE_INTO_INBOX.format(where=""))
    execute("ALTER TABLE todos VALIDATE CONSTRAINT todos_filed")
    execute("ALTER TABLE todos ALTER COLUMN list_id SET NOT NULL, ALTER COLUMN position SET NOT NULL")
    execute("ALTER TABLE todos DROP CONSTRAINT todos_filed")


def unfile(apps, schema_editor):
    schema_editor.execute(
        "ALTER TABLE todos ALTER COLUMN list_id DROP NOT NULL, ALTER COLUMN position DROP NOT NULL"
    )


ADD_FOREIGN_KEYS = [
    "ALTER TABLE todos ADD CONSTRAINT todos_list_id_fk FOREIGN KEY (list_id) REFERENCES todo_lists (id)"
    " ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT VALID",
    "ALTER TABLE todos ADD CONSTRAINT todos_parent_id_fk FOREIGN KEY (parent_id) REFERENCES todos (id)"
    " ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED NOT VALID",
    "ALTER TABLE todos VALIDATE CONSTRAINT todos_list_id_fk",
    "ALTER TABLE todos VALIDATE CONSTRAINT todos_parent_id_fk",
]
DROP_FOREIGN_KEYS = [
    "ALTER TABLE todos DROP CONSTRAINT IF EXISTS todos_list_id_fk",
    "ALTER TABLE todos DROP CONSTRAINT IF EXISTS todos_parent_id_fk",
]


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('todos', '0006_todo_lists'),
    ]

    operations = [
        NO_STATEMENT_TIMEOUT,
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='todo',
                    name='list',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='todos', to='todos.todolist'),
                    preserve_default=False,
                ),
                migrations.AddField(
                    model_name='todo',
                    name='parent',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='subtasks', to='todos.todo'),
                ),
                migrations.AddField(
                    model_name='todo',
                    name='position',
                    field=models.TextField(db_collation='C'),
                    preserve_default=False,
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'ALTER TABLE todos ADD COLUMN list_id bigint NULL, ADD COLUMN parent_id bigint NULL, '
                    'ADD COLUMN position text COLLATE "C" NULL',
                    reverse_sql='ALTER TABLE todos DROP COLUMN list_id, DROP COLUMN parent_id, DROP COLUMN position',
                ),
                migrations.RunPython(file_todos_into_inboxes, unfile),
                migrations.RunSQL(ADD_FOREIGN_KEYS, reverse_sql=DROP_FOREIGN_KEYS),
            ],
        ),
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(fields=['list', 'parent', 'position', 'id'], name='idx_todos_list_position'),
        ),
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(fields=['list', '-created_at', '-id'], name='idx_todos_list_created'),
        ),
        AddIndexConcurrently(
            model_name='todo',
            index=models.Index(condition=models.Q(('parent__isnull', False)), fields=['parent'], name='idx_todos_parent'),
        ),
        RESTORE_STATEMENT_TIMEOUT,
    ]
