"""Fill the database with many todos fast, in SQL (INSERT ... SELECT generate_series), for
benchmarks and load tests: `manage.py seed_todos --todos 1000000 --users 1000`."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from todos.positions import seeded_sql

USERS_SQL = """
    INSERT INTO auth_user (username, password, is_superuser, first_name, last_name, email,
                           is_staff, is_active, date_joined)
    SELECT %(prefix)s || g, '!', false, '', '', '', false, true, now()
    FROM generate_series(1, %(users)s) AS g
    ON CONFLICT (username) DO NOTHING
"""

INBOXES_SQL = """
    INSERT INTO todo_lists (owner_id, name, is_inbox, created_at, updated_at)
    SELECT id, 'Inbox', true, now(), now() FROM auth_user WHERE username = ANY(%(names)s)
    ON CONFLICT DO NOTHING
"""

# Owners round-robin, each todo in its owner's Inbox; priorities, due dates (none, past or future), and completion vary;
# created_at steps back 30 s per row, so a million rows span about a year.
TODOS_SQL = """
    WITH owners AS (
        SELECT array_agg(u.id ORDER BY u.id) AS ids, array_agg(l.id ORDER BY u.id) AS inboxes
        FROM auth_user u JOIN todo_lists l ON l.owner_id = u.id AND l.is_inbox
        WHERE u.username = ANY(%(names)s)
    )
    INSERT INTO todos (owner_id, list_id, position, title, description, priority, due_date,
                       completed, completed_at, created_at, updated_at)
    SELECT owners.ids[1 + g %% array_length(owners.ids, 1)],
           owners.inboxes[1 + g %% array_length(owners.ids, 1)],
           POSITION,
           'Seeded todo ' || g,
           CASE WHEN g %% 5 = 0 THEN 'Some notes for todo ' || g ELSE '' END,
           1 + g %% 3,
           CASE WHEN g %% 4 = 0 THEN NULL ELSE current_date + (g %% 120 - 60) END,
           g %% 3 = 0,
           CASE WHEN g %% 3 = 0 THEN now() END,
           now() - g * interval '30 seconds',
           now()
    FROM owners, generate_series(1, %(todos)s) AS g
""".replace("POSITION", seeded_sql("now() - g * interval '30 seconds'", "g"))


class Command(BaseCommand):
    help = "Insert many todos (and their owners) in a few SQL statements."

    def add_arguments(self, parser):
        parser.add_argument("--todos", type=int, default=1_000_000)
        parser.add_argument("--users", type=int, default=1000, help="owners to spread them over")
        parser.add_argument("--owner", help="give every todo to this existing username instead")
        parser.add_argument("--prefix", default="seed-", help="username prefix of new owners")

    def handle(self, *, todos, users, owner, prefix, **options):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 0")  # a million rows take a while
            if owner:
                names = [owner]
            else:
                cursor.execute(USERS_SQL, {"prefix": prefix, "users": users})
                names = [f"{prefix}{i}" for i in range(1, users + 1)]
            cursor.execute(INBOXES_SQL, {"names": names})  # made by SQL: no signal made them
            cursor.execute("SELECT count(*) FROM auth_user WHERE username = ANY(%s)", [names])
            if cursor.fetchone()[0] == 0:
                self.stderr.write(f"No such user: {owner}")
                return
            cursor.execute(TODOS_SQL, {"names": names, "todos": todos})
            inserted = cursor.rowcount
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE todos")
        self.stdout.write(f"Inserted {inserted} todos for {len(names)} owner(s); analyzed.")
