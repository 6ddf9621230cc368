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
from todos.migrations._user_keys import cascade_with_the_user

TABLES = {"todos": "owner_id", "todo_lists": "owner_id", "idempotency_keys": "user_id"}

class Migration(migrations.Migration):
    atomic = False

    dependencies = [("todos", "0007_todo_list_parent_position")]

    operations = [
        NO_STATEMENT_TIMEOUT,
        *(
            operation
            for table, column in TABLES.items()
            for operation in cascade_with_the_user(table, column, "DEFERRABLE INITIALLY DEFERRED")
        ),
        RESTORE_STATEMENT_TIMEOUT,
    ]
