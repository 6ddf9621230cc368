"""Instructions per request of the served crud loop, counted by valgrind's callgrind: one uvicorn
process (the ASGI application as `manage.py serve` runs it) under callgrind, warmed up, its
counters zeroed, then a fixed number of crud requests from 10 concurrent clients, then a dump.

An instruction count does not drift with what else the machine runs, as requests per second
and CPU seconds do here: the same variant measured twice agrees within about 0.1%. It counts
the application's process only (not PostgreSQL, not the client), and instructions are not
cycles (a cache miss costs no instruction), so it is a second figure beside bin/bench's, not a
replacement. Needs valgrind (Debian's package) and a database seeded as bin/bench seeds it.

    .venv/bin/python -m bench.instructions [--loops 10] [--clients 10] [--variants on,lines-off,off]
"""

import argparse
import asyncio
import json
import subprocess
import tempfile
from pathlib import Path

import httpx

from . import harness

VARIANTS = {
    "on": ("metrics and request lines", {"METRICS_ENABLED": "1"}),
    "lines-off": ("metrics, no request lines", {"METRICS_ENABLED": "1", "LOG_REQUESTS": "0"}),
    "off": ("neither (METRICS_ENABLED=0)", {"METRICS_ENABLED": "0"}),
}
CLIENTS = 10


async def crud(port, tokens, loops, clients=CLIENTS):
    """`loops` rounds of the locustfile's crud calls per client; returns the requests sent."""

    async def client(token):
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Token {token}"},
            timeout=600,
        ) as http:
            for _ in range(loops):
                created = await http.post("/api/todo", json={"title": "x"})
                assert created.status_code == 201, created.text
                pk = created.json()["id"]
                for response in (
                    await http.get(f"/api/todo/{pk}"),
                    await http.get("/api/todo", params={"completed": "false", "priority": "high"}),
                    await http.put(f"/api/todo/{pk}", json={"title": "y"}),
                    await http.delete(f"/api/todo/{pk}"),
                    await http.get("/api/todo"),
                ):
                    assert response.status_code < 300, response.text
        return 6 * loops

    return sum(await asyncio.gather(*(client(tokens[i % len(tokens)]) for i in range(clients))))


def instructions_per_request(env, port, tokens, loops, out_dir, tag, clients=CLIENTS):
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out_dir / f'callgrind.{tag}'}",
        harness.PYTHON,
        "-m",
        "uvicorn",
        "todoproject.asgi:application",
        "--port",
        port,
        "--no-access-log",
    ]
    # Under callgrind the application takes minutes to import.
    with harness.running(
        command, env=env, port=port, log_path=out_dir / f"{tag}.server.log", timeout=900
    ) as server:
        asyncio.run(crud(port, tokens, 3, clients))  # warm up: pools open, statements prepared
        callgrind_control("--zero", server.pid)
        requests = asyncio.run(crud(port, tokens, loops, clients))
        callgrind_control("--dump", server.pid)
    [dump] = Path(out_dir).glob(f"callgrind.{tag}.*")  # the dump after the zeroing
    summary = next(line for line in dump.read_text().splitlines() if line.startswith("summary:"))
    return int(summary.split()[1]) / requests, requests


def callgrind_control(option, pid):
    subprocess.run(["callgrind_control", option, str(pid)], check=True, capture_output=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--loops", type=int, default=10, help="crud rounds per client")
    parser.add_argument("--variants", default="on,lines-off,off")
    parser.add_argument(
        "--clients",
        type=int,
        default=CLIENTS,
        help="concurrent clients; 1 leaves out the waits that concurrency adds, which follow "
        "the timing of the run (the application runs some 50 times slower than PostgreSQL)",
    )
    parser.add_argument("--port", type=int, default=8240)
    parser.add_argument("--database", default="todos_benchcost")
    args = parser.parse_args(argv)
    out_dir = harness.timestamped_dir(harness.ROOT / "reports")
    setup = argparse.Namespace(database=args.database, fresh=False)
    db_url, tokens_file = harness.prepare(setup, out_dir, users=CLIENTS, bigtable_rows=0)
    tokens = json.loads(Path(tokens_file).read_text())["crud"]
    figures = {}
    for name in args.variants.split(","):
        label, extra = VARIANTS[name]
        env = harness.service_env(
            db_url,
            PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="todos-metrics-"),
            # Time under callgrind runs about 50 times slower: a refresh each second would
            # weigh 50 times more per request than it does at full speed.
            METRICS_REFRESH_SECONDS=50,
            **extra,
        )
        env.pop("PYTHONUNBUFFERED", None)  # stderr is line-buffered as in production
        figures[name], requests = instructions_per_request(
            env, args.port, tokens, args.loops, out_dir, name, args.clients
        )
        print(f"{label}: {figures[name]:,.0f} instructions per request ({requests} requests)")
    base = figures.get("off")
    lines = ["| variant | instructions per request | / off |", "| --- | ---: | ---: |"]
    for name, value in figures.items():
        ratio = f"{value / base:.3f}" if base else ""
        lines.append(f"| {VARIANTS[name][0]} | {value:,.0f} | {ratio} |")
    report = "\n".join(["# Instructions per crud request (callgrind)", "", *lines]) + "\n"
    (out_dir / "instructions.md").write_text(report)
    print(report)
    print(f"Wrote {out_dir / 'instructions.md'}")


if __name__ == "__main__":
    main()
