"""What the metrics and request logs cost: the crud scenario against `manage.py serve` with 2
workers, with them on (METRICS_ENABLED=1: the serve command's multiprocess directory, one JSON
line per request in the server's log file) and off (METRICS_ENABLED=0), in interleaved rounds.

Two figures per run: requests per second, and the CPU time the server's processes spent per
request (user + system, read from /proc for the serve command and every process under it
before and after the Locust run). On a shared machine the second is the steadier one: other work slows a run's
throughput, but adds little to the CPU the workers spend on each request.

    .venv/bin/python -m bench.metrics_cost [--rounds 3] [--duration 20] [--users 50]

Writes reports/<timestamp>/metrics-cost.md (docs/operations.md quotes it).
"""

import argparse
import os
import statistics
from pathlib import Path

from . import harness

VARIANTS = {"on": {"METRICS_ENABLED": "1"}, "off": {"METRICS_ENABLED": "0"}}
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root):
    """User + system CPU of the process `root` and of every live process under it: the serve
    command, the server it starts in a session of its own (so not in its process group) and the
    server's workers."""
    parents, ticks = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])  # fields[1] is ppid, [11] utime, [12] stime
        ticks[pid] = int(fields[11]) + int(fields[12])

    def under_root(pid):
        while pid > 1:
            if pid == root:
                return True
            pid = parents.get(pid, 0)
        return False

    return sum(t for pid, t in ticks.items() if under_root(pid)) / TICKS_PER_SECOND


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.metrics_cost", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--port", type=int, default=8230)
    parser.add_argument("--database", default="todos_benchcost")
    args = parser.parse_args(argv)
    out_dir = harness.timestamped_dir(harness.ROOT / "reports")
    setup = argparse.Namespace(database=args.database, fresh=False)
    db_url, tokens = harness.prepare(setup, out_dir, users=args.users, bigtable_rows=0)
    runs = {name: [] for name in VARIANTS}
    load = harness.load_average()
    for round_no in range(1, args.rounds + 1):
        order = VARIANTS if round_no % 2 else dict(reversed(VARIANTS.items()))
        for name, extra in order.items():
            env = harness.service_env(db_url, WEB_CONCURRENCY=2, **extra)
            tag = f"r{round_no}-{name}"
            with harness.running(
                harness.service_command(args.port),
                env=env,
                port=args.port,
                log_path=out_dir / f"{tag}.server.log",
            ) as server:
                cpu_before = tree_cpu_seconds(server.pid)
                outcome = harness.run_locust(
                    "crud",
                    host=f"http://127.0.0.1:{args.port}",
                    out_dir=out_dir,
                    label=tag,
                    tokens_file=tokens,
                    users=args.users,
                    duration=args.duration,
                )
                cpu = tree_cpu_seconds(server.pid) - cpu_before
            figures = dict(harness.total(outcome))
            figures["cpu_us"] = cpu * 1e6 / max(figures.get("requests", 0), 1)
            runs[name].append(figures)
            print(f"{tag}: server CPU {figures['cpu_us']:.0f} us per request", flush=True)
    report = markdown(runs, args, load, harness.machine())
    (out_dir / "metrics-cost.md").write_text(report)
    print(report)
    print(f"Wrote {out_dir / 'metrics-cost.md'}")


def markdown(runs, args, load, machine):
    def median(name, key):
        return statistics.median(run.get(key, 0.0) for run in runs[name])

    def per_round(name, key, form):
        return " / ".join(form.format(run.get(key, 0.0)) for run in runs[name])

    lines = [
        "# Metrics and request logs: on against off",
        "",
        f"- Machine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}, "
        f"PostgreSQL {machine['postgres']}; Locust, the servers and PostgreSQL share the cores. "
        f"Load average before: {load}.",
        f"- crud scenario, {args.users} users, {args.duration} s per run, {args.rounds} rounds "
        "interleaved (the order alternating), `manage.py serve` with 2 workers; medians of the "
        "rounds. Server CPU: user + system of the server's processes per request.",
        "",
        "| | req/s per round | req/s | server CPU per request (us) per round | median | "
        "p50 / p95 ms | failures |",
        "| --- | --- | ---: | --- | ---: | --- | ---: |",
    ]
    for name in runs:
        lines.append(
            f"| metrics and logs {name} | {per_round(name, 'rps', '{:.0f}')} | "
            f"{median(name, 'rps'):.0f} | {per_round(name, 'cpu_us', '{:.0f}')} | "
            f"{median(name, 'cpu_us'):.0f} | {median(name, 'p50'):.0f} / "
            f"{median(name, 'p95'):.0f} | {sum(run.get('failures', 0) for run in runs[name])} |"
        )
    pairs_rps = [on["rps"] / off["rps"] for on, off in zip(runs["on"], runs["off"], strict=True)]
    pairs_cpu = [
        on["cpu_us"] / off["cpu_us"] for on, off in zip(runs["on"], runs["off"], strict=True)
    ]
    lines += [
        "",
        f"- on / off req/s, round by round: {' / '.join(f'{r:.3f}' for r in pairs_rps)} "
        f"(median {statistics.median(pairs_rps):.3f})",
        f"- on / off server CPU per request, round by round: "
        f"{' / '.join(f'{r:.3f}' for r in pairs_cpu)} (median {statistics.median(pairs_cpu):.3f})",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
