"""Per-worker figures for docs/scaling.md: the service under `manage.py serve` with 1, 2 and 4
workers, connected directly and through a local PgBouncer (transaction mode), loaded by wrk
(Debian's package) with a bounded mix of API calls, side by side in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/todos_scale .venv/bin/python -m bench.scaling

Each configuration runs for --seconds with --connections concurrent keep-alive connections; while it
runs the script samples GET /api/debug/pool-status (per worker: connections in use and open) and
pg_stat_activity (server-side backends). Timings on a shared 2-core machine are noisy: compare the
rows of one run with each other, not with another run.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from statistics import median

import psycopg

from todos.tests.pgbouncer import LocalPgBouncer, free_port

from .harness import ROOT, ensure_database

# 50% list a page, 30% read one, 20% create: a read-heavy todo app.
WRK_SCRIPT = """
math.randomseed(os.time())
local token = "Token {token}"
local lo, hi = {lo}, {hi}
request = function()
  local r = math.random(100)
  local headers = {{["Authorization"] = token}}
  if r <= 50 then
    return wrk.format("GET", "/api/todo?page_size=20", headers)
  elseif r <= 80 then
    return wrk.format("GET", "/api/todo/" .. math.random(lo, hi), headers)
  end
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/todo", headers, '{{"title": "load", "priority": "high"}}')
end
"""


def ensure_wrk():
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def manage(*args, env=None):
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env or os.environ, check=True
    )


def prepare(dsn):
    """The database (created if missing), a bench user with a token, staff (for pool-status),
    and 2000 todos to read."""
    ensure_database(dsn)
    manage("migrate", "--verbosity", "0")
    manage("configure_role")
    with psycopg.connect(dsn, autocommit=True) as conn:
        script = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from todos.models import Todo
user, _ = User.objects.get_or_create(username="bench", defaults={"is_staff": True})
if not Todo.objects.filter(owner=user).exists():
    Todo.objects.bulk_create(Todo(owner=user, title=f"seed {n}") for n in range(2000))
print(Token.objects.get_or_create(user=user)[0].key)
"""
        token = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        lo, hi = conn.execute(
            "SELECT min(t.id), max(t.id) FROM todos t JOIN auth_user u ON u.id = t.owner_id "
            "WHERE u.username = 'bench' AND t.title LIKE 'seed %%'"
        ).fetchone()
        # Fresh statistics, as autovacuum would keep them (it may be off on a test machine):
        # without them the planner read the user's whole list and sorted it.
        conn.execute("ANALYZE")
    return token, lo, hi


def wait_ready(port, token, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return pool_status(port, token)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on port {port} did not come up")


def pool_status(port, token):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/debug/pool-status",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def sample(port, token, dsn, stop, samples):
    """Every 0.25 s: one worker's pool (whichever answers) and the server's backends."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            try:
                status = pool_status(port, token)
                samples["pool"].append(
                    (status["pid"], status["connections"]["in_use"], status["connections"]["size"])
                )
            except OSError:
                pass
            total, active = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
            samples["server"].append((total, active))
            stop.wait(0.25)


def cpu_seconds(*, pgid=None, pid=None):
    """User + system CPU of one process, or of every live process in a process group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state ppid pgrp ... utime (11) stime (12), counted from 0 here.
        if (pgid is not None and int(fields[2]) == pgid) or int(stat.parent.name) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_wrk(port, script, seconds, connections):
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            script,
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout

    def grab(pattern, default="0"):
        found = re.search(pattern, out, re.MULTILINE)
        return found.group(1) if found else default

    return {
        "rps": float(grab(r"Requests/sec:\s+([\d.]+)")),
        "requests": int(grab(r"(\d+) requests in")),
        "non_2xx": int(grab(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": grab(r"Socket errors: (.*)", "none"),
        "p50": grab(r"^\s+50%\s+(\S+)"),
        "p99": grab(r"^\s+99%\s+(\S+)"),
    }


# The pools' backends are open after the warm-up; their CPU is PostgreSQL's share of the work.
BACKENDS_SQL = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


def measure(server, port, token, direct_dsn, bouncer, script, args):
    wait_ready(port, token)
    run_wrk(port, script, 3, args.connections)  # warm-up: pools open, code paths loaded
    samples, stop = {"pool": [], "server": []}, threading.Event()
    sampler = threading.Thread(target=sample, args=(port, token, direct_dsn, stop, samples))
    sampler.start()
    with psycopg.connect(direct_dsn, autocommit=True) as conn:
        backends = [pid for (pid,) in conn.execute(BACKENDS_SQL)]
        cpu_before = (
            cpu_seconds(pgid=server.pid),
            cpu_seconds(pid=bouncer.process.pid),
            sum(cpu_seconds(pid=pid) for pid in backends),
        )
        result = run_wrk(port, script, args.seconds, args.connections)
        cpu_after = (
            cpu_seconds(pgid=server.pid),
            cpu_seconds(pid=bouncer.process.pid),
            sum(cpu_seconds(pid=pid) for pid in backends),
        )
    stop.set()
    sampler.join()
    return samples, (cpu_before, cpu_after), result


def bench_one(*, mode, workers, port, token, direct_dsn, bouncer, script, args):
    env = {**os.environ, "WEB_CONCURRENCY": str(workers), "PORT": str(port)}
    if mode == "pgbouncer":
        env["DB_PGBOUNCER"] = "1"
        env["DATABASE_URL"] = re.sub(r":5432/", f":{bouncer.port}/", env["DATABASE_URL"])
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            samples, cpu, result = measure(server, port, token, direct_dsn, bouncer, script, args)
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
            log.seek(0)
            startup = log.read().splitlines()
    cpu_before, cpu_after = cpu
    per_pid = {}
    for pid, in_use, size in samples["pool"]:
        seen = per_pid.setdefault(pid, {"in_use": [], "size": []})
        seen["in_use"].append(in_use)
        seen["size"].append(size)
    return {
        "mode": mode,
        "workers": workers,
        **result,
        "rps_per_worker": round(result["rps"] / workers, 1),
        "app_cpu_ms_per_request": round(
            1000 * (cpu_after[0] - cpu_before[0]) / max(1, result["requests"]), 2
        ),
        "pgbouncer_cpu_ms_per_request": round(
            1000 * (cpu_after[1] - cpu_before[1]) / max(1, result["requests"]), 3
        ),
        "postgres_cpu_ms_per_request": round(
            1000 * (cpu_after[2] - cpu_before[2]) / max(1, result["requests"]), 3
        ),
        "in_use_per_worker_median": median(v for p in per_pid.values() for v in p["in_use"]),
        "in_use_per_worker_max": max(v for p in per_pid.values() for v in p["in_use"]),
        "open_per_worker_max": max(v for p in per_pid.values() for v in p["size"]),
        "server_backends_max": max(total for total, _ in samples["server"]),
        "server_active_median": median(active for _, active in samples["server"]),
        "serve_said": next((line for line in startup if line.startswith("Serving")), ""),
    }


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--modes", default="direct,pgbouncer")
    parser.add_argument("--out", default=str(ROOT / "reports" / "scale-bench.json"))
    args = parser.parse_args()
    ensure_wrk()

    direct_dsn = os.environ["DATABASE_URL"]
    token, lo, hi = prepare(direct_dsn)
    script = Path(tempfile.mkdtemp()) / "mix.lua"
    script.write_text(WRK_SCRIPT.format(token=token, lo=lo, hi=hi))
    port = free_port(range(8300, 8400))
    bouncer = LocalPgBouncer(port=free_port(range(6433, 6440))).start()
    rows = []
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            for mode in args.modes.split(","):
                row = bench_one(
                    mode=mode,
                    workers=workers,
                    port=port,
                    token=token,
                    direct_dsn=direct_dsn,
                    bouncer=bouncer,
                    script=script,
                    args=args,
                )
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        bouncer.stop()
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2))
    base = rows[0]["rps"]
    print(
        f"\n{'mode':10} {'W':>2} {'rps/base':>8} {'rps/W':>7} {'app ms/req':>10} {'bouncer':>7} "
        f"{'pg ms/req':>9} "
        f"{'in use/W':>9} {'open/W':>7} {'PG backends':>11} {'PG active':>9} {'p50':>8} "
        f"{'p99':>8} {'non-2xx':>7}"
    )
    for r in rows:
        print(
            f"{r['mode']:10} {r['workers']:>2} {r['rps'] / base:>8.2f} {r['rps_per_worker']:>7} "
            f"{r['app_cpu_ms_per_request']:>10} {r['pgbouncer_cpu_ms_per_request']:>7} "
            f"{r['postgres_cpu_ms_per_request']:>9} "
            f"{r['in_use_per_worker_median']:>4}/{r['in_use_per_worker_max']:<4} "
            f"{r['open_per_worker_max']:>7} {r['server_backends_max']:>11} "
            f"{r['server_active_median']:>9} {r['p50']:>8} {r['p99']:>8} {r['non_2xx']:>7}"
        )


if __name__ == "__main__":
    main()
