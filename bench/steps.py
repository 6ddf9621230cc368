"""The speed steps of issue 4, side by side in one run: the crud scenario against the service as
it stood after each step (a git commit, served from a worktree of it), the current code with the
API fast lane switched off, and the seed's BEFORE design in FastAPI, in interleaved rounds.

    .venv/bin/python -m bench.steps [--rounds 2] [--duration 20] [--users 50]

Every build runs with 2 uvicorn workers on the same scratch database and load-test users
(`todos_benchrun`, seeded by `manage.py seed_loadtest`). Writes reports/<timestamp>/steps.md.
"""

import argparse
import statistics
import subprocess
from pathlib import Path

from todos.management.commands.serve import server_command

from . import harness
from .run import prepare, run_reference

# (label, commit or None for the working tree, extra environment)
STEPS = [
    ("1. lean adrf views on Django's handler (the core service)", "68e7214", {}),
    ("2. + the fast lane: event loop, asyncio pool, cached tokens", "9e7666f", {}),
    ("3. + statements compiled once per shape, direct rendering", "b861d37", {}),
    (
        "4. + issue 5's features: Redis write throttle, ETags, body checks, two indexes",
        "e44e074",
        {},
    ),
    (
        "5. + direct answers on the lane, without DRF's per-request objects (the current code)",
        None,
        {},
    ),
    ("5'. the current code, fast lane off", None, {"API_FAST_LANE": "0"}),
]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.steps", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--port", type=int, default=8210)
    args = parser.parse_args(argv)
    out_dir = harness.timestamped_dir(harness.ROOT / "reports")
    setup = argparse.Namespace(
        database="todos_benchrun",
        fresh=False,
        users=args.users,
        duration=args.duration,
        port=args.port,
        reference_database="todos_seedbefore",
    )
    db_url, tokens = prepare(setup, out_dir, users=args.users, bigtable_rows=0)
    trees = {commit: worktree(commit) for _, commit, _ in STEPS if commit}
    rps = {label: [] for label, _, _ in STEPS}
    rps["FastAPI BEFORE"] = []
    load = harness.load_average()
    for round_no in range(1, args.rounds + 1):
        print(f"Round {round_no}", flush=True)
        for label, commit, extra in STEPS:
            cwd = trees[commit] if commit else harness.ROOT
            env = harness.service_env(db_url, WEB_CONCURRENCY=2, **extra)
            tag = f"r{round_no}-{label.split('.')[0]}"
            with harness.running(
                uvicorn_command(args.port),
                env=env,
                port=args.port,
                cwd=cwd,
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
            rps[label].append(harness.total(outcome).get("rps", 0.0))
        reference = run_reference(setup, out_dir, tokens)
        rps["FastAPI BEFORE"].append(harness.total(reference).get("rps", 0.0))
    (out_dir / "steps.md").write_text(markdown(rps, args, load, harness.machine()))
    print(f"\nWrote {out_dir / 'steps.md'}")


def uvicorn_command(port):
    """What `manage.py serve` runs, without its database preparation (old commits' migrations
    differ from the scratch database's)."""
    return [harness.PYTHON, "-m", *server_command("uvicorn", "127.0.0.1", port, 2)]


def worktree(commit):
    path = Path("/tmp/todo-steps") / commit
    if not path.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), commit],
            cwd=harness.ROOT,
            check=True,
            capture_output=True,
        )
    return path


def markdown(rps, args, load, machine):
    reference = statistics.median(rps["FastAPI BEFORE"])
    lines = [
        "# Speed steps, side by side",
        "",
        f"- Machine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}, "
        f"PostgreSQL {machine['postgres']}; Locust, the servers and PostgreSQL share the cores. "
        f"Load average before: {load}.",
        f"- crud scenario, {args.users} users, {args.duration} s per run, {args.rounds} rounds "
        "interleaved; every build with 2 uvicorn workers; the median of the rounds.",
        "",
        "| build | req/s per round | median | / previous step | / FastAPI BEFORE |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    previous = None
    for label, values in rps.items():
        median = statistics.median(values)
        number = label.split(".")[0]
        is_step = number.isdigit()  # not 5' (a variant) nor the reference
        step = f"{median / previous:.2f}" if previous and is_step else ""
        lines.append(
            f"| {label} | {' / '.join(f'{v:.0f}' for v in values)} | {median:.0f} | {step} | "
            f"{median / reference:.2f} |"
        )
        if is_step:
            previous = median
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
