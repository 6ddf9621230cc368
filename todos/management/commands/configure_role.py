"""Set the session defaults that behind PgBouncer cannot travel in the connection's `options`:
statement_timeout, and timezone = 'UTC' (so Django need not SET TIME ZONE on each connection).
They are set for this role in this database only, so other databases on the server keep theirs."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections


def role_sql(connection):
    quote = connection.ops.quote_name
    db = connection.settings_dict
    role = quote(db["USER"]) if db["USER"] else "CURRENT_USER"
    prefix = f"ALTER ROLE {role} IN DATABASE {quote(db['NAME'])}"
    return [
        f"{prefix} SET statement_timeout = {int(settings.DB_STATEMENT_TIMEOUT_MS)}",
        f"{prefix} SET timezone = 'UTC'",
    ]


class Command(BaseCommand):
    help = "Set statement_timeout and timezone on the database role (needed behind PgBouncer)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--sql", action="store_true", help="print the SQL for a DBA instead of running it"
        )

    def handle(self, *args, database, sql, **options):
        connection = connections[database]
        statements = role_sql(connection)
        if sql:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"Role {connection.settings_dict['USER'] or 'of the connection'} in database "
            f"{connection.settings_dict['NAME']}: statement_timeout = "
            f"{settings.DB_STATEMENT_TIMEOUT_MS} ms, timezone = UTC. New sessions get them; "
            "PgBouncer's open server connections get them once recycled (RECONNECT on its console)."
        )
