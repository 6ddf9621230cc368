"""Create the load-test users with their API tokens, and one user with a big table of todos.

The tokens go to a JSON file that locustfile.py reads (--tokens-file). The big table is written by
one INSERT ... SELECT over generate_series, not through the API: a million rows take seconds."""

import json
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from todos.models import Todo
from todos.positions import seeded_sql
from todos.selectors import inbox_id

PREFIX = "loadtest-"
# One user per single-user scenario, so that no scenario's writes show up in another's lists.
SCENARIO_USERS = ("burst", "bulk", "bigtable", "batch")

# Most of a long-lived user's todos are done: 10% open; priority 20% high, 50% medium, 30% low;
# due dates on 70%; one todo every 30 seconds going back from now (a million span about a year).
BIG_TABLE_SQL = """
    INSERT INTO todos (owner_id, list_id, position, title, description, priority, due_date,
                       completed, completed_at, created_at, updated_at)
    SELECT %(owner_id)s, %(list_id)s, POSITION, 'Load-test todo ' || g, '',
           CASE WHEN r_priority < 0.2 THEN 3 WHEN r_priority < 0.7 THEN 2 ELSE 1 END,
           CASE WHEN r_due < 0.7 THEN (created_at + r_due * 60 * interval '1 day')::date END,
           r_open >= 0.1, CASE WHEN r_open >= 0.1 THEN created_at + interval '1 hour' END,
           created_at, created_at
    FROM (
        SELECT g, random() AS r_open, random() AS r_priority, random() AS r_due,
               now() - g * interval '30 seconds' AS created_at
        FROM generate_series(1, %(rows)s) AS g
    ) AS rows
""".replace("POSITION", seeded_sql("created_at", "g"))


class Command(BaseCommand):
    help = "Create load-test users and tokens (and a big table of todos) for locustfile.py."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50, help="users for the crud scenario")
        parser.add_argument(
            "--bigtable-rows", type=int, default=0, help="todos of the bigtable scenario's user"
        )
        parser.add_argument("--tokens-file", type=Path, required=True)

    def handle(self, *args, users, bigtable_rows, tokens_file, **options):
        crud_users = [ensure_user(f"{PREFIX}{n}") for n in range(1, users + 1)]
        scenario_users = {name: ensure_user(f"{PREFIX}{name}") for name in SCENARIO_USERS}
        # Each run starts from empty lists, except for the big table, which is kept when its size
        # is already right (seeding it again takes most of a minute).
        Todo.objects.filter(owner__username__startswith=PREFIX).exclude(
            owner=scenario_users["bigtable"]
        ).delete()
        seed_big_table(scenario_users["bigtable"], bigtable_rows, self.stdout)

        tokens = {
            "crud": [token_for(user) for user in crud_users],
            **{name: token_for(user) for name, user in scenario_users.items()},
        }
        tokens_file.parent.mkdir(parents=True, exist_ok=True)
        tokens_file.write_text(json.dumps(tokens, indent=1))
        self.stdout.write(
            f"{users} crud users and the burst, bulk, batch and bigtable users "
            f"({bigtable_rows} todos); "
            f"tokens in {tokens_file}"
        )


def ensure_user(username):
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()  # load-test users sign in with their token only
        user.save(update_fields=["password"])
    return user


def token_for(user):
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def seed_big_table(user, rows, stdout):
    if Todo.objects.filter(owner=user).count() == rows:
        return
    with transaction.atomic():
        Todo.objects.filter(owner=user).delete()
        if rows:
            stdout.write(f"Writing {rows} todos for {user.username}...")
            with connection.cursor() as cursor:
                cursor.execute(
                    BIG_TABLE_SQL,
                    {"owner_id": user.pk, "list_id": inbox_id(user), "rows": rows},
                )
    # Fresh statistics and visibility map, so the planner sees the table as it now is.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE todos")
