"""Create the database if missing and migrate (both skipped behind PgBouncer), collect static
files if they changed since the last collection, fit the worker count and every worker's pools to the connection budget (todos/db.py),
then run the production ASGI server with a fresh directory for the workers' metrics."""

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from todos import replica
from todos.db import (
    connection_budget,
    connections_per_worker,
    describe_pools,
    probe_connections,
    replica_connection_limits,
    server_connection_limits,
    worker_pools,
)

# Connections kept free for migrations, the admin shell and psql while the server runs.
HEADROOM = 5

# The env var holding each pool's min size, by the setting that holds its max.
POOL_MIN_SETTINGS = {
    "DB_POOL_MAX_SIZE": "DB_POOL_MIN_SIZE",
    "DB_API_POOL_MAX_SIZE": "DB_API_POOL_MIN_SIZE",
}


def fit_workers_and_pools(*, workers, pools, budget, pools_are_explicit):
    """Return (workers, pools, note) so that workers x all pools' max fits in `budget`."""
    per_worker = connections_per_worker(pools)
    if workers * per_worker <= budget:
        return workers, pools, None
    if pools_are_explicit:
        fitted = max(1, budget // per_worker)
        return (
            fitted,
            pools,
            f"fewer workers ({workers} -> {fitted}) to keep {describe_pools(pools)}",
        )
    # Shrink every pool by the same factor, keeping at least one connection in each (the lag
    # probe's connection stays as it is).
    fixed = probe_connections()
    share = max(1, budget // workers - fixed)
    fitted = {
        name: max(1, size * share // (per_worker - fixed)) if size else 0
        for name, size in pools.items()
    }
    return (
        workers,
        fitted,
        f"connections per worker lowered ({per_worker} -> {connections_per_worker(fitted)})",
    )


class Command(BaseCommand):
    help = "Prepare the database and run the service under uvicorn with several workers."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")

    def handle(self, *args, host, port, server, **options):
        if settings.DB_PGBOUNCER:
            refuse_unapplied_migrations()
        else:
            create_database_if_missing(settings.DATABASES["default"])
            call_command("migrate", interactive=False, verbosity=0)
        collect_static_files_if_changed()

        budgets = server_budgets()
        for alias in connections:
            connections[alias].close()
            connections[alias].close_pool()
        budget = min(budget for _, budget, _ in budgets)
        workers, pools, note = fit_workers_and_pools(
            workers=int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1),
            pools=worker_pools(),
            budget=budget,
            pools_are_explicit=any(name in os.environ for name in worker_pools()),
        )
        os.environ["WEB_CONCURRENCY"] = str(workers)
        for name, size in pools.items():
            if size:
                min_name = POOL_MIN_SETTINGS[name]
                pool_min = min(getattr(settings, min_name, size), size)
                os.environ.update({name: str(size), min_name: str(pool_min)})
        per_worker = connections_per_worker(pools)
        open_files = raise_open_files_limit()
        self.stdout.write(
            f"Serving http://{host}:{port}/ with {server}: {workers} workers x "
            f"{per_worker} connections ({describe_pools(pools)}) = up to {workers * per_worker} "
            + ", ".join(
                f"of {budget} on {name} ({source})"
                if len(budgets) > 1
                else f"of {budget} ({source})"
                for name, budget, source in budgets
            )
            + (f"; {note}" if note else "")
            + ("; through PgBouncer (transaction mode)" if settings.DB_PGBOUNCER else "")
            + f"; up to {open_files} open files a worker"
        )
        sys.stdout.flush()
        command = server_command(server, host, port, workers)
        sys.exit(run_with_metrics_directory([sys.executable, "-m", *command]))


def server_budgets():
    """[(server, budget, where it comes from)]: the primary's, and with a replica the replica
    server's, each against its own limits; every worker opens its pools on both."""
    limits = server_connection_limits()
    budgets = [("the primary", *connection_budget(limits, headroom=HEADROOM))]
    if replica.configured():
        replica_limits, assumed = replica_connection_limits(), ""
        if replica_limits is None:
            # A hot standby refuses to start with a lower max_connections than its primary's.
            replica_limits = limits
            assumed = ", assumed: the replica does not answer and has at least the primary's"
        budget, source = connection_budget(replica_limits, headroom=HEADROOM, alias=replica.ALIAS)
        budgets.append(("the replica", budget, source + assumed))
    return budgets


def raise_open_files_limit():
    """Raise this process's soft limit of open files to its hard limit (the workers inherit it):
    each event stream holds a socket, and the usual soft limit of 1024 would refuse connections
    after about a thousand streams a worker. Returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def run_with_metrics_directory(command):
    """Run the server with PROMETHEUS_MULTIPROC_DIR set to a directory of this run's own, and
    remove it when the server has stopped: stale files of an earlier run would add its counts
    to this one's. The server runs as a child so that this process is there to clean up.

    SIGTERM, SIGINT and SIGHUP are passed on to the server, which drains and stops
    (todos/serving.py); this process waits for it, and at GRACEFUL_TIMEOUT kills the server's
    process group, its workers included (they give up on what is in flight a little earlier)."""
    directory = tempfile.mkdtemp(prefix="todos-metrics-")
    try:
        server = subprocess.Popen(
            command,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory, "SERVING_WORKER": "1"},
            start_new_session=True,  # a group of its own, to kill whole if it overstays
        )
        deadline = []

        def pass_on(signum, frame):
            if signum == signal.SIGTERM:
                # To every worker at once, not through uvicorn's supervisor, which looks at its
                # signals twice a second (its own SIGTERM to them comes later; they ignore it).
                os.killpg(server.pid, signal.SIGTERM)
            else:
                server.send_signal(signum)  # SIGHUP: uvicorn restarts its workers
            if not deadline and signum != signal.SIGHUP:
                deadline.append(time.monotonic() + settings.GRACEFUL_TIMEOUT)

        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, pass_on)
        while True:
            try:
                return server.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                if deadline and time.monotonic() > deadline[0]:
                    os.killpg(server.pid, signal.SIGKILL)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# In STATIC_ROOT: the digest of the source files that the last collectstatic collected.
STATIC_STAMP = ".sources-digest"


def collect_static_files_if_changed():
    """Run collectstatic only when the static source files (every finder's, by path and content)
    or the storage differ from those of the last collection, or its manifest is missing: it took
    39.6 s of a 42 s restart, most of it compressing the API docs' assets, while hashing the
    sources takes a few hundredths of a second. Returns whether it collected."""
    root = Path(settings.STATIC_ROOT)
    stamp = root / STATIC_STAMP
    digest = static_sources_digest()
    manifest = root / "staticfiles.json"
    if stamp.exists() and stamp.read_text() == digest and manifest.exists():
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(digest)
    return True


def static_sources_digest():
    digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    for number, finder in enumerate(get_finders()):
        for path, storage in sorted(finder.list([]), key=lambda found: found[0]):
            digest.update(f"\0{number}\0{path}\0".encode())
            with storage.open(path) as source:
                digest.update(source.read())
    return digest.hexdigest()


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
    # uvicorn (uvloop, httptools, no lifespan, no access log) with a drain before shutdown.
    return [
        "todos.serving",
        *("--host", host, "--port", str(port), "--workers", str(workers)),
        *("--graceful-timeout", str(settings.GRACEFUL_TIMEOUT)),
        *("--drain-seconds", str(settings.GRACEFUL_DRAIN_SECONDS)),
    ]


def refuse_unapplied_migrations():
    """Behind PgBouncer, migrations run once per release, directly against PostgreSQL: a
    concurrent index build and its session settings cannot go through transaction pooling."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise CommandError(
            f"{len(plan)} migrations are not applied. Behind PgBouncer, run them directly "
            "against PostgreSQL first: DATABASE_URL=<PostgreSQL itself> manage.py migrate "
            "&& manage.py configure_role (docs/scaling.md)."
        )


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
