"""Migration 0007 (lists) on a live table: its wall time, and how long writers waited meanwhile.

    DATABASE_URL=postgres://.../scratch .venv/bin/python -m bench.migrate_lists [--writers 2]

On a database migrated to 0006 and filled (`manage.py seed_todos --todos 1000000`), it starts
writer threads that update random todos one statement at a time, as the API does, runs
`manage.py migrate todos 0007` in a subprocess, and reports the migration's time and the
slowest writes, with what they waited on (sampled from pg_stat_activity). `--reverse` first
migrates back to 0006, so the measurement can be repeated.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time

import psycopg

URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/todos")


def manage(*args):
    return subprocess.run([sys.executable, "manage.py", *args], check=True, capture_output=True)


def writer(stop, durations, high):
    with psycopg.connect(URL, autocommit=True) as conn:
        while not stop.is_set():
            pk = random.randint(1, high)
            start = time.perf_counter()
            conn.execute("UPDATE todos SET updated_at = now() WHERE id = %s", [pk])
            durations.append((time.perf_counter() - start, time.time()))
            time.sleep(0.002)


def watcher(stop, waits):
    """The lock waits of other sessions, every 10 ms: (query, seconds waited so far)."""
    with psycopg.connect(URL, autocommit=True) as conn:
        while not stop.is_set():
            for query, waited in conn.execute(
                "SELECT left(query, 60), extract(epoch FROM now() - query_start) "
                "FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = "
                "current_database() AND pid <> pg_backend_pid()"
            ):
                waits.append((query, float(waited)))
            time.sleep(0.01)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--reverse", action="store_true", help="migrate back to 0006 first")
    options = parser.parse_args()
    if options.reverse:
        manage("migrate", "todos", "0006")
    with psycopg.connect(URL) as conn:
        rows, high = conn.execute("SELECT count(*), max(id) FROM todos").fetchone()
    stop, durations, waits = threading.Event(), [], []
    threads = [
        threading.Thread(target=writer, args=(stop, durations, high))
        for _ in range(options.writers)
    ]
    threads.append(threading.Thread(target=watcher, args=(stop, waits)))
    for thread in threads:
        thread.start()
    time.sleep(1)
    before = len(durations)
    start = time.perf_counter()
    try:
        manage("migrate", "todos", "0007")
        elapsed = time.perf_counter() - start
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    during = sorted(d for d, _ in durations[before:])
    print(f"rows: {rows}; migration 0007: {elapsed:.1f} s")
    print(
        f"writes during it: {len(during)}; median {statistics.median(during) * 1000:.2f} ms, "
        f"p99 {during[int(len(during) * 0.99)] * 1000:.1f} ms, max {during[-1] * 1000:.1f} ms"
    )
    longest = {}
    for query, waited in waits:
        longest[query] = max(waited, longest.get(query, 0))
    for query, waited in sorted(longest.items(), key=lambda item: -item[1])[:5]:
        print(f"longest lock wait seen: {waited * 1000:.0f} ms  {query!r}")


if __name__ == "__main__":
    main()
