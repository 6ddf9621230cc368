# Deleting a user (the admin, a shell) while one of their requests inserts a todo or a list or
# claims an Idempotency-Key: Django's delete collects the user's rows, then deletes them and the user; a
# row inserted between the two still pointed at the user, and the delete failed on the foreign
# key (a 500 in the admin). With ON DELETE CASCADE in the database such a row goes with the user.
# Django still deletes what it collected first (with its signals); the database catches the rest.
#
# The constraint keeps its name (todos.services.refers_to_a_deleted_user reads it) and is checked
# at once, not at commit as Django makes it: a todo written for a user deleted meanwhile then
# fails on the user's key before the deferred key to its (deleted) Inbox, so the answer says the
# user is gone (401). It is added NOT VALID (a moment's lock) and validated after, which reads
# the table under a lock that lets writes through.

from django.db import migrations

from todos.migrations._timeouts import NO_STATEMENT_TIMEOUT, RESTORE_STATEMENT_TIMEOUT

TABLES = {"todos": "owner_id", "todo_lists": "owner_id", "idempotency_keys": "user_id"}


def _on_the_user_fk(table, statement):
    """`statement` (with %I for the constraint's name) on `table`'s foreign key to the user."""
    return f"""
DO $$
DECLARE fk text;
BEGIN
    SELECT conname INTO STRICT fk FROM pg_constraint
     WHERE conrelid = '{table}'::regclass AND contype = 'f'
       AND confrelid = 'auth_user'::regclass;
    EXECUTE format('{statement}', fk, fk);
END $$;
"""


def _replace(table, how):
    return _on_the_user_fk(
        table,
        f"ALTER TABLE {table} DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY ({TABLES[table]}) "
        f"REFERENCES auth_user (id) {how} NOT VALID",
    )


def _validate(table):
    return _on_the_user_fk(table, f"ALTER TABLE {table} VALIDATE CONSTRAINT %I")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("todos", "0007_todo_list_parent_position")]

    operations = [
        NO_STATEMENT_TIMEOUT,
        *(
            operation
            for table in TABLES
            for operation in (
                migrations.RunSQL(
                    _replace(table, "ON DELETE CASCADE NOT DEFERRABLE"),
                    _replace(table, "DEFERRABLE INITIALLY DEFERRED"),
                ),
                migrations.RunSQL(_validate(table), _validate(table)),
            )
        ),
        RESTORE_STATEMENT_TIMEOUT,
    ]
