"""bin/bench: the service on a scratch database against every scenario of locustfile.py, and the
seed's BEFORE design (bench/seed_before) against the crud scenario in the same run.

Writes reports/<timestamp>/: Locust's CSV, HTML and log per scenario, report.md, report.json and
chart.png. Exits 1 when a scenario fell below its success threshold. `bin/bench events` runs
bench/events.py instead (10,000 event streams)."""

import argparse
import json
import subprocess
import sys

from . import claims, events, harness, report

SCENARIOS = ("burst", "crud", "bulk", "bigtable", "search", "batch")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["events"]:  # bin/bench events: the event streams' bench (bench/events.py)
        return events.main(argv[1:])
    parser = argparse.ArgumentParser(prog="bin/bench", description=__doc__)
    parser.add_argument("--duration", type=int, default=20, help="seconds per timed scenario")
    parser.add_argument("--users", type=int, default=50, help="crud users")
    parser.add_argument("--bigtable-users", type=int, default=5)
    parser.add_argument("--bigtable-rows", type=int, default=1_000_000)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--no-reference", action="store_true", help="skip the FastAPI reference")
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY (default: serve decides)")
    parser.add_argument("--port", type=int, default=8200, help="the reference uses port + 1")
    parser.add_argument("--database", default="todos_benchrun", help="scratch database")
    parser.add_argument("--reference-database", default="todos_seedbefore")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="drop the scratch database first (the reference's table is emptied every run)",
    )
    parser.add_argument("--out", default=str(harness.ROOT / "reports"))
    parser.add_argument(
        "--claims",
        action="store_true",
        help="measure the seed's claims instead (pool, indexes, bulk, workers, server)",
    )
    args = parser.parse_args(argv)
    out_dir = harness.timestamped_dir(args.out)
    if args.claims:
        return claims.main(args, out_dir)
    return run_report(args, out_dir)


def run_report(args, out_dir):
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        sys.exit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    print(f"Report in {out_dir}", flush=True)
    context = harness.run_context(args)
    rows = args.bigtable_rows if {"bigtable", "search"} & set(scenarios) else 0
    db_url, tokens = harness.prepare(args, out_dir, users=args.users, bigtable_rows=rows)

    runs = []
    host = f"http://127.0.0.1:{args.port}"
    log = out_dir / "server.log"
    env = harness.service_env(db_url, WEB_CONCURRENCY=args.workers)
    with harness.running(
        harness.service_command(args.port, args.server), env=env, port=args.port, log_path=log
    ):
        context["server"] = harness.first_line(log, "Serving")
        print(context["server"], flush=True)
        for scenario in scenarios:
            users, duration = {
                "burst": (1, 60),  # the run stops itself once the 200 creates are answered
                "crud": (args.users, args.duration),
                "bulk": (1, args.duration),
                "bigtable": (args.bigtable_users, args.duration),
                "search": (args.bigtable_users, args.duration),
                "batch": (1, args.duration),
            }[scenario]
            runs.append(
                harness.run_locust(
                    scenario,
                    host=host,
                    out_dir=out_dir,
                    label=scenario,
                    tokens_file=tokens,
                    users=users,
                    duration=duration,
                )
            )
            runs[-1]["bigtable_rows"] = rows if scenario in ("bigtable", "search") else None

    if "crud" in scenarios and not args.no_reference:
        runs.append(run_reference(args, out_dir, tokens))

    context["load_after"] = harness.load_average()
    (out_dir / "report.json").write_text(json.dumps({**context, "runs": runs}, indent=1))
    (out_dir / "report.md").write_text(report.markdown(context, runs))
    draw_chart(out_dir)
    print(f"\nWrote {out_dir / 'report.md'}")
    return 0 if all(run.get("passed") and run["exit_code"] == 0 for run in runs) else 1


def run_reference(args, out_dir, tokens):
    port = args.port + 1
    # SQLAlchemy spells the scheme postgresql://.
    ref_url = harness.database_url(args.reference_database).replace(
        "postgres://", "postgresql://", 1
    )
    env = harness.service_env(ref_url, SEED_BEFORE_DATABASE_URL=ref_url)
    subprocess.run([harness.BENCH_PYTHON, "-m", "bench.seed_before.schema"], env=env, check=True)
    with harness.running(
        harness.reference_command(port), env=env, port=port, log_path=out_dir / "reference.log"
    ):
        run = harness.run_locust(
            "crud",
            host=f"http://127.0.0.1:{port}",
            out_dir=out_dir,
            label="crud-fastapi-before",
            tokens_file=tokens,
            users=args.users,
            duration=args.duration,
        )
    run["reference"] = True
    return run


def draw_chart(out_dir):
    command = [harness.BENCH_PYTHON, "-m", "bench.chart", out_dir / "report.json"]
    try:
        drawn = subprocess.run([*command, out_dir / "chart.png"], cwd=harness.ROOT).returncode == 0
    except OSError:  # bench/.venv missing: run through bin/bench, which creates it
        drawn = False
    if not drawn:
        print("chart.png not drawn: run bin/bench (it installs bench/.venv)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
