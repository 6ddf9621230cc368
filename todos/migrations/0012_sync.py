"""The change feed of GET /api/sync (todos.sync, docs/sync.md), kept by the database itself so
that every write counts, whoever makes it (the API, the pages, the admin, a bulk statement, raw
SQL):

- `sync_xid` on todos and lists: the id of the transaction that last wrote the row
  (pg_current_xact_id(), a 64-bit xid8 that never wraps), stamped by a BEFORE INSERT OR UPDATE
  row trigger. Rows written before this migration read as 0 (a constant default: no rewrite).
- `sync_tombstones`: one row per deleted todo or list (cascades included), written by an AFTER
  DELETE statement trigger from its transition table: one INSERT per DELETE statement.
- Every such write also does pg_notify('todo_sync', <owner id>) (live updates listen there),
  unless the setting `todos.sync_notify` is `off` (ALTER DATABASE/ROLE ... SET): NOTIFY
  serializes the commits of the transactions that send one (docs/sync.md, "Cost").
- Moving a todo to another list stamps the list it left: its open count changed.

The todos' index of the feed is built CONCURRENTLY (atomic = False), as 0009's was.
"""

from django.db import migrations, models

import django.utils.timezone

import todos.models

from todos.migrations._timeouts import NO_STATEMENT_TIMEOUT, RESTORE_STATEMENT_TIMEOUT

STAMP_COLUMNS = """
ALTER TABLE todos ADD COLUMN sync_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE todos ALTER COLUMN sync_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE todo_lists ADD COLUMN sync_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE todo_lists ALTER COLUMN sync_xid SET DEFAULT pg_current_xact_id();
"""
DROP_STAMP_COLUMNS = """
ALTER TABLE todos DROP COLUMN sync_xid;
ALTER TABLE todo_lists DROP COLUMN sync_xid;
"""

TRIGGERS = """
CREATE FUNCTION todos_sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sync_xid := pg_current_xact_id();
    IF current_setting('todos.sync_notify', true) IS DISTINCT FROM 'off' THEN
        PERFORM pg_notify('todo_sync', NEW.owner_id::text);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.list_id <> OLD.list_id THEN
        UPDATE todo_lists SET sync_xid = NEW.sync_xid
         WHERE id = OLD.list_id AND sync_xid <> NEW.sync_xid;
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION todo_lists_sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sync_xid := pg_current_xact_id();
    IF current_setting('todos.sync_notify', true) IS DISTINCT FROM 'off' THEN
        PERFORM pg_notify('todo_sync', NEW.owner_id::text);
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION sync_tombstones_write() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind smallint := CASE TG_TABLE_NAME WHEN 'todos' THEN 1 ELSE 2 END;
    owner bigint;
BEGIN
    IF kind = 1 THEN
        INSERT INTO sync_tombstones (user_id, kind, object_id, list_id, xid, deleted_at)
        SELECT owner_id, kind, id, list_id, pg_current_xact_id(), now() FROM gone;
    ELSE
        INSERT INTO sync_tombstones (user_id, kind, object_id, list_id, xid, deleted_at)
        SELECT owner_id, kind, id, NULL, pg_current_xact_id(), now() FROM gone;
    END IF;
    IF current_setting('todos.sync_notify', true) IS DISTINCT FROM 'off' THEN
        FOR owner IN SELECT DISTINCT owner_id FROM gone LOOP
            PERFORM pg_notify('todo_sync', owner::text);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER todos_sync_stamp BEFORE INSERT OR UPDATE ON todos
    FOR EACH ROW EXECUTE FUNCTION todos_sync_stamp();
CREATE TRIGGER todo_lists_sync_stamp BEFORE INSERT OR UPDATE ON todo_lists
    FOR EACH ROW EXECUTE FUNCTION todo_lists_sync_stamp();
CREATE TRIGGER todos_sync_tombstones AFTER DELETE ON todos
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sync_tombstones_write();
CREATE TRIGGER todo_lists_sync_tombstones AFTER DELETE ON todo_lists
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION sync_tombstones_write();
"""
DROP_TRIGGERS = """
DROP TRIGGER todos_sync_stamp ON todos;
DROP TRIGGER todo_lists_sync_stamp ON todo_lists;
DROP TRIGGER todos_sync_tombstones ON todos;
DROP TRIGGER todo_lists_sync_tombstones ON todo_lists;
DROP FUNCTION todos_sync_stamp();
DROP FUNCTION todo_lists_sync_stamp();
DROP FUNCTION sync_tombstones_write();
"""

# The feed's own index of todos: a user's rows by stamp, then id (the pages' keyset order).
FEED_INDEX = """
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_todos_owner_sync ON todos (owner_id, sync_xid, id)
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("todos", "0011_user_locale"),
    ]

    operations = [
        migrations.CreateModel(
            name="SyncTombstone",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("user_id", models.BigIntegerField()),
                ("kind", models.PositiveSmallIntegerField(choices=[(1, "todo"), (2, "list")])),
                ("object_id", models.BigIntegerField()),
                ("list_id", models.BigIntegerField(null=True)),
                ("xid", todos.models.TransactionIdField()),
                ("deleted_at", models.DateTimeField()),
            ],
            options={
                "db_table": "sync_tombstones",
                "indexes": [
                    models.Index(fields=["deleted_at"], name="idx_sync_tombstones_deleted"),
                    models.Index(
                        fields=["user_id", "xid", "id"], name="idx_sync_tombstones_feed"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="SyncPurge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("max_xid", todos.models.TransactionIdField()),
                ("purged_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("deleted", models.BigIntegerField()),
            ],
            options={"db_table": "sync_purges"},
        ),
        migrations.RunSQL(STAMP_COLUMNS, DROP_STAMP_COLUMNS),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
        NO_STATEMENT_TIMEOUT,
        migrations.RunSQL(FEED_INDEX, "DROP INDEX CONCURRENTLY IF EXISTS idx_todos_owner_sync"),
        RESTORE_STATEMENT_TIMEOUT,
    ]
