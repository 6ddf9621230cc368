from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections

from . import replica
from .db import connection_arithmetic, describe_pools, server_connection_limits

ROLE_SETTINGS_SQL = "SELECT current_setting('statement_timeout'), current_setting('TimeZone')"


@checks.register(checks.Tags.database)
def check_connection_budget(app_configs=None, databases=None, **kwargs):
    """Warn when every worker's full pools would not fit in what this node may open: on the
    primary (`--database default`), and with a replica on the replica's server against its own
    limits (`--database replica`)."""
    servers = [alias for alias in ("default", replica.ALIAS) if alias in (databases or ())]
    warnings = []
    for alias in servers:
        if alias == replica.ALIAS and not replica.configured():
            continue
        try:
            limits = server_connection_limits(connections[alias])
        except DatabaseError:
            continue
        sums = connection_arithmetic(settings.WEB_CONCURRENCY, limits, alias)
        if sums["workers_x_connections_per_worker"] > sums["connection_budget"]:
            warnings.append(_over_budget(sums, "the replica: " if alias != "default" else ""))
    return warnings


def _over_budget(sums, server):
    return checks.Warning(
        f"{server}{sums['workers']} workers x {sums['connections_per_worker']} connections per "
        f"worker ({describe_pools(sums['pools'])}) = {sums['workers_x_connections_per_worker']} "
        f"connections, but the budget is {sums['connection_budget']} "
        f"({sums['connection_budget_source']}).",
        hint="Lower WEB_CONCURRENCY or the pool sizes, put PgBouncer in front, "
        "or raise max_connections; under load the excess fails with 'too many clients'.",
        id="todos.W001",
    )


@checks.register(checks.Tags.database)
def check_pgbouncer_role(app_configs=None, databases=None, **kwargs):
    """Behind PgBouncer the statement timeout and UTC come from the role, not the connection."""
    if not settings.DB_PGBOUNCER or not databases or "default" not in databases:
        return []
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute(ROLE_SETTINGS_SQL)
            statement_timeout, time_zone = cursor.fetchone()
    except DatabaseError:
        return []
    if statement_timeout != "0" and time_zone == "UTC":
        return []
    return [
        checks.Warning(
            f"DB_PGBOUNCER=1 but the database role runs with statement_timeout={statement_timeout} "
            f"and TimeZone={time_zone}.",
            hint="Run `manage.py configure_role` (or the SQL it prints with --sql) once per "
            "database, against PostgreSQL directly.",
            id="todos.W002",
        )
    ]
