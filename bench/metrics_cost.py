"""What the metrics and request logs cost: the crud scenario against 2 uvicorn workers with them
on (METRICS_ENABLED=1, a PROMETHEUS_MULTIPROC_DIR as `manage.py serve` makes, one JSON line per
request written to the server's log file) and off (METRICS_ENABLED=0), in interleaved rounds.

    .venv/bin/python -m bench.metrics_cost [--rounds 3] [--duration 20] [--users 50]

Writes reports/<timestamp>/metrics-cost.md (docs/operations.md quotes it).
"""

import argparse
import shutil
import statistics
import tempfile

from . import harness
from .run import prepare
from .steps import uvicorn_command

VARIANTS = {"on": {"METRICS_ENABLED": "1"}, "off": {"METRICS_ENABLED": "0"}}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.metrics_cost", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--port", type=int, default=8230)
    parser.add_argument("--database", default="todos_benchrun")
    args = parser.parse_args(argv)
    out_dir = harness.timestamped_dir(harness.ROOT / "reports")
    setup = argparse.Namespace(database=args.database, fresh=False)
    db_url, tokens = prepare(setup, out_dir, users=args.users, bigtable_rows=0)
    runs = {name: [] for name in VARIANTS}
    load = harness.load_average()
    for round_no in range(1, args.rounds + 1):
        for name, extra in VARIANTS.items():
            metrics_dir = tempfile.mkdtemp(prefix="todos-metrics-")
            if name == "on":
                extra = {**extra, "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
            env = harness.service_env(db_url, WEB_CONCURRENCY=2, **extra)
            tag = f"r{round_no}-{name}"
            try:
                with harness.running(
                    uvicorn_command(args.port),
                    env=env,
                    port=args.port,
                    log_path=out_dir / f"{tag}.server.log",
                ):
                    outcome = harness.run_locust(
                        "crud",
                        host=f"http://127.0.0.1:{args.port}",
                        out_dir=out_dir,
                        label=tag,
                        tokens_file=tokens,
                        users=args.users,
                        duration=args.duration,
                    )
            finally:
                shutil.rmtree(metrics_dir, ignore_errors=True)
            figures = harness.total(outcome)
            runs[name].append(figures)
            print(f"{tag}: {harness.one_line(outcome)}", flush=True)
    report = markdown(runs, args, load, harness.machine())
    (out_dir / "metrics-cost.md").write_text(report)
    print(report)
    print(f"Wrote {out_dir / 'metrics-cost.md'}")


def markdown(runs, args, load, machine):
    def median(name, key):
        return statistics.median(run.get(key, 0.0) for run in runs[name])

    lines = [
        "# Metrics and request logs: on against off",
        "",
        f"- Machine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}, "
        f"PostgreSQL {machine['postgres']}; Locust, the servers and PostgreSQL share the cores. "
        f"Load average before: {load}.",
        f"- crud scenario, {args.users} users, {args.duration} s per run, {args.rounds} rounds "
        "interleaved, 2 uvicorn workers; medians of the rounds.",
        "",
        "| | req/s per round | req/s | p50 ms | p95 ms | failures |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name in runs:
        per_round = " / ".join(f"{run.get('rps', 0.0):.0f}" for run in runs[name])
        lines.append(
            f"| metrics and logs {name} | {per_round} | {median(name, 'rps'):.0f} | "
            f"{median(name, 'p50'):.0f} | {median(name, 'p95'):.0f} | "
            f"{sum(run.get('failures', 0) for run in runs[name])} |"
        )
    ratio = median("on", "rps") / median("off", "rps")
    lines += ["", f"on / off req/s: {ratio:.3f}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
