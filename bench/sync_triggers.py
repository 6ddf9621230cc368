"""What the sync feed's triggers (migration 0012) cost a write, measured in the database alone:
the crud scenario's writes (INSERT a todo, UPDATE it, DELETE it, each its own transaction) from
1 and from 8 connections at once, with the triggers as migrated (`on`), without their
pg_notify (`no-notify`: the database's todos.sync_notify = off) and disabled (`off`), in
interleaved rounds on a scratch database. Two figures: writes per second, and the CPU time the
server processes spent per write (/proc/<pid>/schedstat), the steadier one on a shared machine.

    .venv/bin/python -m bench.sync_triggers [--rounds 5] [--ops 300] [--database todos_bench_sync]

Prints both per variant (medians of the rounds) and the ratios to `off`
(docs/sync.md quotes it).
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

import psycopg

TRIGGERS = ["todos_sync_stamp", "todos_sync_tombstones"]


def _url(base, database):
    return base.rsplit("/", 1)[0] + "/" + database


def prepare(base_url, database):
    """Create and migrate the scratch database; a user and its Inbox to write for."""
    with psycopg.connect(_url(base_url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    env = {**os.environ, "DATABASE_URL": _url(base_url, database)}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], check=True, env=env)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            "User.objects.filter(username='sync-bench').exists() or "
            "User.objects.create_user('sync-bench')",
        ],
        check=True,
        env=env,
    )


def set_variant(conn, database, variant):
    notify = "off" if variant == "no-notify" else "on"
    conn.execute(f'ALTER DATABASE "{database}" SET todos.sync_notify = {notify}')
    how = "DISABLE" if variant == "off" else "ENABLE"
    for trigger in TRIGGERS:
        conn.execute(f"ALTER TABLE todos {how} TRIGGER {trigger}")


def backend_cpu_seconds(conn):
    """The CPU time of this connection's server process so far (same machine)."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with open(f"/proc/{pid}/schedstat") as schedstat:
        return int(schedstat.read().split()[0]) / 1e9


def writes(url, user_id, list_id, ops, cpu):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT 1")  # the session's settings and caches, before the count
        before = backend_cpu_seconds(conn)
        for n in range(ops):
            (pk,) = conn.execute(
                "INSERT INTO todos (owner_id, list_id, title, description, priority, completed,"
                " created_at, updated_at, position) VALUES (%s, %s, %s, '', 2, false, now(),"
                " now(), 'a') RETURNING id",
                [user_id, list_id, f"t{n}"],
            ).fetchone()
            conn.execute(
                "UPDATE todos SET completed = true, updated_at = now() WHERE id = %s", [pk]
            )
            conn.execute("DELETE FROM todos WHERE id = %s", [pk])
        cpu.append(backend_cpu_seconds(conn) - before)


def run(url, user_id, list_id, connections, ops):
    """(writes per second, server CPU microseconds per write) with `connections` writing at
    once, 3 writes per op."""
    cpu = []
    threads = [
        threading.Thread(target=writes, args=(url, user_id, list_id, ops, cpu))
        for _ in range(connections)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return 3 * ops * connections / elapsed, sum(cpu) * 1e6 / (3 * ops * connections)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.sync_triggers", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--database", default="todos_bench_sync")
    args = parser.parse_args(argv)
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/todos")
    prepare(base, args.database)
    url = _url(base, args.database)
    variants = ["on", "no-notify", "off"]
    results = {(v, c): [] for v in variants for c in (1, 8)}
    with psycopg.connect(url, autocommit=True) as conn:
        user_id, list_id = conn.execute(
            "SELECT u.id, l.id FROM auth_user u JOIN todo_lists l ON l.owner_id = u.id"
            " WHERE u.username = 'sync-bench' AND l.is_inbox"
        ).fetchone()
        try:
            for round_ in range(args.rounds):
                order = variants if round_ % 2 == 0 else variants[::-1]
                for variant in order:
                    set_variant(conn, args.database, variant)
                    for connections in (1, 8):
                        ops = args.ops if connections == 1 else args.ops // 4
                        results[variant, connections].append(
                            run(url, user_id, list_id, connections, ops)
                        )
        finally:
            set_variant(conn, args.database, "on")
            conn.execute(f'ALTER DATABASE "{args.database}" RESET todos.sync_notify')
    print(f"median of {args.rounds} interleaved rounds (ratio to off):")
    for connections in (1, 8):
        off = [statistics.median(r[i] for r in results["off", connections]) for i in (0, 1)]
        for variant in variants:
            rate, cpu = (
                statistics.median(r[i] for r in results[variant, connections]) for i in (0, 1)
            )
            print(
                f"  {connections} connection(s), {variant:9}: {rate:6.0f} writes/s "
                f"({rate / off[0]:.2f}x), {cpu:5.0f} us server CPU a write ({cpu / off[1]:.2f}x)"
            )


if __name__ == "__main__":
    main()
