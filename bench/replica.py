"""Read throughput with one streaming replica against without, for docs/scaling.md section 6.

A throwaway primary and a `pg_basebackup -R` standby (as todos/tests/test_replica.py makes them),
seeded with reader users; two `manage.py serve` nodes on the primary, one with
DATABASE_REPLICA_URL set and one without, both up for the whole run. wrk (Debian's package) loads
them in turn, interleaved rounds (with, without, without, with, ...), with the same read-only mix
of the users' tokens: 60% `GET /api/todo?page_size=20`, 40% `GET /api/todo/<id>` of their own.
No reader writes, so none is pinned to the primary. Per round: requests/s, non-2xx, the CPU of
the node, of the primary's and of the standby's processes (from /proc), and where the
transactions went (pg_stat_database on each cluster).

    .venv/bin/python -m bench.replica --rounds 3 --seconds 15

Everything shares this machine's cores: the ratio shows what the routing costs and that reads
move to the replica, not what a replica on hardware of its own adds.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from statistics import median

import psycopg

from todos.tests.real_servers import Cluster, free_port

from .harness import ROOT, machine, running, service_command, service_env
from .scaling import ensure_wrk, run_wrk

SEED = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from todos.models import Todo
readers = []
for n in range({users}):
    user = User.objects.create_user(f"reader{{n}}")
    made = Todo.objects.bulk_create(Todo(owner=user, title=f"seed {{i}}") for i in range({todos}))
    readers.append([Token.objects.create(user=user).key, made[0].pk, made[-1].pk])
import json
print(json.dumps(readers))
"""

WRK_SCRIPT = """
math.randomseed(os.time())
local readers = {readers}
request = function()
  local reader = readers[math.random(#readers)]
  local headers = {{["Authorization"] = "Token " .. reader[1]}}
  if math.random(100) <= 60 then
    return wrk.format("GET", "/api/todo?page_size=20", headers)
  end
  return wrk.format("GET", "/api/todo/" .. math.random(reader[2], reader[3]), headers)
end
"""

TRANSACTIONS_SQL = (
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'todos'"
)


def tree_cpu(root):
    """User + system CPU seconds of a process and all its descendants (serve's server runs in
    a process group of its own, so a group's sum would miss it)."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state ppid ... utime (11) stime (12), counted from 0 here.
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, (ppid, _) in stats.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(stats[pid][1] for pid in tree if pid in stats) / os.sysconf("SC_CLK_TCK")


def cluster_cpu(cluster):
    """CPU seconds of a cluster's postmaster and every process it started."""
    return tree_cpu(int((cluster.data / "postmaster.pid").read_text().split()[0]))


def transactions(cluster):
    with psycopg.connect(cluster.url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute(TRANSACTIONS_SQL).fetchone()[0]


def manage(*args, database_url):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def seed(primary, args):
    """The database on the primary, migrated, with the reader users; returns [[token, first
    todo id, last todo id]] of each reader."""
    primary.start()
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{primary.port}/postgres", autocommit=True
    ) as conn:
        conn.execute("CREATE DATABASE todos")
    manage("migrate", "--no-input", "--verbosity", "0", database_url=primary.url)
    script = SEED.format(users=args.users, todos=args.todos)
    out = manage("shell", "-v", "0", "-c", script, database_url=primary.url)
    with psycopg.connect(primary.url.replace("postgres://", "postgresql://"), autocommit=True) as c:
        c.execute("ANALYZE")  # replayed on the standby too: the statistics are in the WAL
    return json.loads(out.splitlines()[-1])


def measure(node, primary, standby, script, args):
    run_wrk(node["port"], script, args.warmup, args.connections)  # pools grown, caches warm
    before = (
        tree_cpu(node["process"].pid),
        cluster_cpu(primary),
        cluster_cpu(standby),
        transactions(primary),
        transactions(standby),
    )
    result = run_wrk(node["port"], script, args.seconds, args.connections)
    after = (
        tree_cpu(node["process"].pid),
        cluster_cpu(primary),
        cluster_cpu(standby),
        transactions(primary),
        transactions(standby),
    )
    requests = max(1, result["requests"])
    app, on_primary, on_standby, xacts_primary, xacts_standby = (
        b - a for a, b in zip(before, after, strict=True)
    )
    return {
        "node": node["name"],
        **result,
        "app_cpu_ms_per_request": round(1000 * app / requests, 3),
        "primary_cpu_ms_per_request": round(1000 * on_primary / requests, 3),
        "standby_cpu_ms_per_request": round(1000 * on_standby / requests, 3),
        "primary_transactions_per_request": round(xacts_primary / requests, 3),
        "standby_transactions_per_request": round(xacts_standby / requests, 3),
    }


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.replica", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each node, interleaved")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of load before each round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each node")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--todos", type=int, default=500, help="todos of each reader")
    parser.add_argument("--ports", default="8500-8599", help="where the two nodes listen")
    parser.add_argument("--out", default=str(ROOT / "reports" / "replica-bench.json"))
    args = parser.parse_args()
    ensure_wrk()
    low, high = (int(p) for p in args.ports.split("-"))

    primary = Cluster()
    with ExitStack() as stack:
        stack.callback(primary.destroy)
        readers = seed(primary, args)
        standby = Cluster(primary=primary)
        stack.callback(standby.destroy)
        standby.start()

        script = Path(tempfile.mkdtemp()) / "reads.lua"
        lua_readers = "{" + ", ".join(f'{{"{t}", {lo}, {hi}}}' for t, lo, hi in readers) + "}"
        script.write_text(WRK_SCRIPT.format(readers=lua_readers))

        nodes = []
        for name, extra in (
            ("with the replica", {"DATABASE_REPLICA_URL": standby.url}),
            ("without", {}),
        ):
            port = free_port(range(low, high + 1))
            log = Path(tempfile.mkstemp(prefix="replica-bench-", suffix=".log")[1])
            env = service_env(
                primary.url,
                WEB_CONCURRENCY=args.workers,
                # Two nodes share each server: each gets half of its connections.
                DB_CONNECTION_BUDGET=45,
                DB_REPLICA_CONNECTION_BUDGET=45,
                **extra,
            )
            process = stack.enter_context(
                running(service_command(port), env=env, port=port, log_path=log)
            )
            said = next((s for s in log.read_text().splitlines() if s.startswith("Serving")), "")
            nodes.append({"name": name, "port": port, "process": process, "serve_said": said})
            print(said, flush=True)

        rows = []
        for round_number in range(args.rounds):
            order = nodes if round_number % 2 == 0 else nodes[::-1]
            for node in order:
                row = {"round": round_number, **measure(node, primary, standby, script, args)}
                rows.append(row)
                print(json.dumps(row), flush=True)

    report = {"machine": machine(), "args": vars(args), "nodes": nodes, "rows": rows}
    for node in report["nodes"]:
        node.pop("process")
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))

    by_node = {node["name"]: [r for r in rows if r["node"] == node["name"]] for node in nodes}
    print(f"\n{'node':18} {'req/s (median)':>14} {'rounds':>30} {'app ms':>7} {'primary ms':>10} "
          f"{'standby ms':>10} {'xact P/S per req':>17} {'non-2xx':>7}")  # fmt: skip
    for name, runs in by_node.items():
        each = " ".join(f"{r['rps']:,.0f}" for r in runs)
        print(
            f"{name:18} {median(r['rps'] for r in runs):>14,.0f} "
            f"{each:>30} "
            f"{median(r['app_cpu_ms_per_request'] for r in runs):>7} "
            f"{median(r['primary_cpu_ms_per_request'] for r in runs):>10} "
            f"{median(r['standby_cpu_ms_per_request'] for r in runs):>10} "
            f"{median(r['primary_transactions_per_request'] for r in runs):>8}/"
            f"{median(r['standby_transactions_per_request'] for r in runs):<8} "
            f"{sum(r['non_2xx'] for r in runs):>7}"
        )
    with_replica, without = (median(r["rps"] for r in runs) for runs in by_node.values())
    ratios = [a["rps"] / b["rps"] for a, b in zip(*by_node.values(), strict=True)]
    print(
        f"\nwith / without: {with_replica / without:.2f} (medians); per round "
        + ", ".join(f"{ratio:.2f}" for ratio in ratios)
    )


if __name__ == "__main__":
    main()
