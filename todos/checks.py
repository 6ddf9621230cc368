from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections

from .db import server_connection_limits


@checks.register(checks.Tags.database)
def check_connection_budget(app_configs=None, databases=None, **kwargs):
    """Warn when every worker's full pool would not fit in PostgreSQL's max_connections."""
    if not databases or "default" not in databases:
        return []
    try:
        limits = server_connection_limits(connections["default"])
    except DatabaseError:
        return []
    workers, pool_max = settings.WEB_CONCURRENCY, settings.DB_POOL_MAX_SIZE
    if workers * pool_max <= limits["available_connections"]:
        return []
    return [
        checks.Warning(
            f"{workers} workers x pool max {pool_max} = {workers * pool_max} connections, but "
            f"PostgreSQL's max_connections is {limits['max_connections']} with "
            f"{limits['reserved_connections']} reserved, leaving {limits['available_connections']}.",
            hint="Lower WEB_CONCURRENCY or DB_POOL_MAX_SIZE, put PgBouncer in front, "
            "or raise max_connections; under load the excess fails with 'too many clients'.",
            id="todos.W001",
        )
    ]
