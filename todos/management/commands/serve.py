"""Create the database if missing, migrate, collect static files, fit the worker count and
pool size to PostgreSQL's max_connections, then exec the production ASGI server."""

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from todos.db import server_connection_limits

# Connections kept free for migrations, the admin shell and psql while the server runs.
HEADROOM = 5


def fit_workers_and_pool(*, workers, pool_max, available, pool_max_is_explicit):
    """Return (workers, pool_max, note) so that workers x pool_max fits in `available`."""
    budget = available - HEADROOM
    if workers * pool_max <= budget:
        return workers, pool_max, None
    if pool_max_is_explicit:
        fitted = max(1, budget // pool_max)
        return (
            fitted,
            pool_max,
            f"fewer workers ({workers} -> {fitted}) to keep DB_POOL_MAX_SIZE={pool_max}",
        )
    fitted = max(1, budget // workers)
    return workers, fitted, f"pool max per worker lowered ({pool_max} -> {fitted})"


class Command(BaseCommand):
    help = "Prepare the database and run the service under uvicorn with several workers."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")

    def handle(self, *args, host, port, server, **options):
        create_database_if_missing(settings.DATABASES["default"])
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)

        limits = server_connection_limits()
        connection.close()
        connection.close_pool()
        workers, pool_max, note = fit_workers_and_pool(
            workers=int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1),
            pool_max=settings.DB_POOL_MAX_SIZE,
            available=limits["available_connections"],
            pool_max_is_explicit="DB_POOL_MAX_SIZE" in os.environ,
        )
        pool_min = min(settings.DB_POOL_MIN_SIZE, pool_max)
        os.environ.update(
            WEB_CONCURRENCY=str(workers),
            DB_POOL_MAX_SIZE=str(pool_max),
            DB_POOL_MIN_SIZE=str(pool_min),
        )
        self.stdout.write(
            f"Serving http://{host}:{port}/ with {server}: {workers} workers x pool {pool_min}-{pool_max} "
            f"= up to {workers * pool_max} of PostgreSQL's {limits['available_connections']} connections"
            + (f" ({note})" if note else "")
        )
        sys.stdout.flush()
        command = server_command(server, host, port, workers)
        os.execv(sys.executable, [sys.executable, "-m", *command])


def server_command(server, host, port, workers):
    if server == "granian":
        return [
            "granian",
            "--interface",
            "asginl",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "todoproject.asgi:application",
        ]
    return [
        "uvicorn",
        "todoproject.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--lifespan",
        "off",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
    ]


def create_database_if_missing(db):
    params = dict(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        connect_timeout=settings.DB_CONNECT_TIMEOUT,
    )
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CommandError(
            f"Cannot reach PostgreSQL at DATABASE_URL={_without_password(settings.DATABASE_URL)}: {reason}"
        ) from None


def _without_password(url):
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))
