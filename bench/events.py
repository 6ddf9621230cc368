"""bin/bench events: 10,000 idle GET /api/events streams held open against `manage.py serve`
with 2 workers, on a scratch database; what they cost and how fast an event arrives.

In one run, taking turns: crud (locustfile.py, its own 50 users, who have no streams) without
streams, then with the 10,000 streams open (--rounds times), then without once more; the workers' RSS at rest
before the streams and with them all open (KiB per stream); the delay from a write's 2xx to its
event at each stream of the writer (10 streams a user, 1,000 users), with every stream open.
Writes reports/<timestamp>/events.md and events.json."""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from . import harness

STREAMS_PER_USER = 10
CRUD_USERS = 50
IDLE_SECONDS = 15  # the workers' CPU with every stream open and nothing written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bin/bench events", description=__doc__)
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--writes", type=int, default=200, help="writes timed for the delay")
    parser.add_argument("--duration", type=int, default=15, help="seconds per crud run")
    parser.add_argument(
        "--rounds", type=int, default=2, help="crud without, then with streams, this many times"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--database", default="todos_bench_events")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the server (repeatable)"
    )
    parser.add_argument("--out", default=str(harness.ROOT / "reports"))
    args = parser.parse_args(argv)
    out_dir = harness.timestamped_dir(args.out)
    print(f"Report in {out_dir}", flush=True)
    raise_open_files_limit()
    context = harness.run_context(args)

    stream_users = -(-args.streams // STREAMS_PER_USER)
    args.users, args.bigtable_rows = CRUD_USERS + stream_users, 0
    db_url, tokens_file = harness.prepare(
        args, out_dir, users=args.users, bigtable_rows=args.bigtable_rows
    )
    tokens = json.loads(tokens_file.read_text())["crud"]
    crud_tokens, stream_tokens = tokens[:CRUD_USERS], tokens[CRUD_USERS:]
    crud_file = out_dir / "crud-tokens.json"
    crud_file.write_text(json.dumps({**json.loads(tokens_file.read_text()), "crud": crud_tokens}))

    extra = dict(pair.split("=", 1) for pair in args.env)
    env = harness.service_env(db_url, WEB_CONCURRENCY=args.workers, **extra)
    host = f"http://127.0.0.1:{args.port}"
    log = out_dir / "server.log"
    results = {}
    with harness.running(
        harness.service_command(args.port), env=env, port=args.port, log_path=log
    ) as server:
        context["server"] = harness.first_line(log, "Serving")
        print(context["server"], flush=True)

        def crud(label):
            workers = worker_pids(server.pid)
            cpu_before = {pid: cpu_seconds(pid) for pid in workers + watched}
            run = harness.run_locust(
                "crud",
                host=host,
                out_dir=out_dir,
                label=label,
                tokens_file=crud_file,
                users=CRUD_USERS,
                duration=args.duration,
            )
            cpu = {pid: round(cpu_seconds(pid) - was, 1) for pid, was in cpu_before.items()}
            print(f"    CPU seconds: {cpu}", flush=True)
            figures = harness.total(run)
            used = sum(cpu[pid] for pid in workers)
            figures["worker_cpu_ms_per_request"] = round(1000 * used / figures["requests"], 3)
            return {**figures, "cpu_seconds": cpu}

        watched = []  # the client processes, once they run

        harness.run_locust(  # warm-up: pools filled, code paths run once; not reported
            "crud",
            host=host,
            out_dir=out_dir,
            label="crud-warm-up",
            tokens_file=crud_file,
            users=CRUD_USERS,
            duration=5,
        )
        runs = results["crud"] = []  # (label, with streams, figures), in the order run
        for number in range(1, args.rounds + 1):
            runs.append((f"without streams ({number})", False, crud(f"crud-without-{number}")))
            workers = worker_pids(server.pid)
            rss_before = rss_kib(workers)
            started = time.monotonic()
            clients, established, failed, retried = open_streams(args, stream_tokens, out_dir)
            watched[:] = [process.pid for process, _ in clients]
            results.setdefault("established_per_round", []).append(established)
            seconds = round(time.monotonic() - started, 1)
            print(
                f"  {established} streams established (failed: {failed}; told to retry and "
                f"came back: {retried}) in {seconds} s"
            )
            if number == 1:  # the first time: memory, from the workers' rest, and the delay
                results.update(
                    established=established, failed=failed, retried=retried, open_seconds=seconds
                )
                time.sleep(2)  # settle: the last streams' first bytes, the allocator
                rss_after = rss_kib(workers)
                results["rss_kib"] = {"before": rss_before, "after": rss_after}
                results["kib_per_stream"] = round(
                    (sum(rss_after.values()) - sum(rss_before.values())) / max(established, 1), 2
                )
                print(f"  RSS {rss_before} -> {rss_after} KiB: {results['kib_per_stream']} KiB")
                idle = {pid: cpu_seconds(pid) for pid in workers}
                time.sleep(IDLE_SECONDS)
                busy = sum(cpu_seconds(pid) - was for pid, was in idle.items())
                results["idle_cpu_percent"] = round(100 * busy / IDLE_SECONDS, 1)
                print(f"  workers' CPU with the streams idle: {results['idle_cpu_percent']}%")
                writes = timed_writes(host, stream_tokens, args.writes)
            label = f"with {established} streams open ({number})"
            runs.append((label, True, crud(f"crud-with-streams-{number}")))
            results.setdefault("open_after_crud", streams_open(host))
            seen, ended = close_streams(clients)
            watched.clear()
            if number == 1:
                results["ended_early"] = ended
                results["delay"] = delays(writes, seen)
                print(f"  delay {results['delay']}")
        runs.append((f"without streams ({args.rounds + 1})", False, crud("crud-without-last")))

    with_ = statistics.mean(figures["rps"] for _, streams, figures in runs if streams)
    without = statistics.mean(figures["rps"] for _, streams, figures in runs if not streams)
    results["crud_ratio"] = round(with_ / without, 3)
    cost = {
        kind: statistics.mean(
            figures["worker_cpu_ms_per_request"] for _, streams, figures in runs if streams is kind
        )
        for kind in (True, False)
    }
    results["cpu_per_request_ratio"] = round(cost[False] / cost[True], 3)
    context["load_after"] = harness.load_average()
    report = {**context, **results}
    (out_dir / "events.json").write_text(json.dumps(report, indent=1, default=str))
    (out_dir / "events.md").write_text(markdown(args, report))
    print((out_dir / "events.md").read_text())
    passed = (
        min(results["established_per_round"]) >= args.streams
        and results["delay"].get("p95_ms", 1e9) < 1000
        and results["crud_ratio"] >= 0.8
    )
    return 0 if passed else 1


def raise_open_files_limit():
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def worker_pids(root):
    """The serve command's worker processes: multiprocessing's spawned children in its tree."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    leaves, todo = [], [root]
    while todo:
        pid = todo.pop()
        if children.get(pid):
            todo += children[pid]
        elif pid != root and b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
            leaves.append(pid)
    return leaves


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pids):
    found = {}
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                found[pid] = int(line.split()[1])
    return found


def open_streams(args, tokens, out_dir):
    """Client processes holding args.streams streams, 10 a user; (clients, established, failed)."""
    streams = [tokens[n // STREAMS_PER_USER] for n in range(args.streams)]
    share = -(-len(streams) // args.clients)
    clients = []
    for number in range(args.clients):
        mine = streams[number * share : (number + 1) * share]
        out = out_dir / f"events-client-{number}.json"
        process = subprocess.Popen(
            [
                harness.PYTHON,
                "-m",
                "bench.events_client",
                *("--port", str(args.port), "--first", str(number * share), "--out", str(out)),
            ],
            cwd=harness.ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        process.stdin.write(json.dumps(mine) + "\n")
        process.stdin.flush()
        clients.append((process, out))
    established, failed = 0, {}
    for process, _ in clients:
        line = process.stdout.readline().split(maxsplit=3)  # established N failed {...}
        if not line:
            raise RuntimeError("a client process died")
        established += int(line[1])
        for kind, count in json.loads(line[3]).items():
            failed[kind] = failed.get(kind, 0) + count
    retried = failed.pop("retried", 0)
    return clients, established, failed, retried


def close_streams(clients):
    seen, ended = [], 0
    for process, _ in clients:
        process.stdin.close()
    for process, out in clients:
        process.wait(timeout=60)
        found = json.loads(Path(out).read_text())
        seen += found["seen"]
        ended += found["ended"]
    return seen, ended


def timed_writes(host, tokens, count):
    """`count` creates, one every 50 ms, each by a user picked at random among those with
    streams; (todo id, monotonic time of its 201, user index) each."""
    writes = []
    picker = random.Random(12)
    with httpx.Client(base_url=host, timeout=10) as client:
        for number in range(count):
            user = picker.randrange(len(tokens))
            response = client.post(
                "/api/todo",
                json={"title": f"event {number}"},
                headers={"Authorization": f"Token {tokens[user]}"},
            )
            at = time.monotonic()
            if response.status_code == 201:
                writes.append((response.json()["id"], at, user))
            time.sleep(0.05)
    return writes


def delays(writes, seen):
    answered = {pk: at for pk, at, _ in writes}
    samples = [(at - answered[pk]) * 1000 for pk, at, _ in seen if pk in answered]
    expected = len(writes) * STREAMS_PER_USER
    if not samples:
        return {"samples": 0, "expected": expected}
    samples.sort()
    return {
        "samples": len(samples),
        "expected": expected,
        "p50_ms": round(samples[len(samples) // 2], 1),
        "p95_ms": round(samples[int(len(samples) * 0.95)], 1),
        "max_ms": round(samples[-1], 1),
    }


def streams_open(host):
    text = httpx.get(f"{host}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("todos_event_streams_open"):
            return float(line.split()[-1])
    return None


def markdown(args, report):
    crud_rows = [(label, figures) for label, _, figures in report["crud"]]
    lines = [
        f"# bin/bench events ({time.strftime('%Y-%m-%d %H:%M')})",
        "",
        f"Machine: {report['machine']}; load before {report['load_before']}, after "
        f"{report['load_after']}.",
        f"Server: {report.get('server', '')}",
        "",
        f"- streams established: {report['established']} of {args.streams} "
        f"(failed: {report['failed'] or 'none'}; told `retry:` and came back as an "
        f"EventSource would: {report['retried']}) in {report['open_seconds']} s, "
        f"{args.clients} client processes; still open after the crud run: "
        f"{report['open_after_crud']:.0f} (gauge); ended early: {report['ended_early']}; "
        f"established in each round (all given back in between): "
        f"{report['established_per_round']}",
        f"- workers' RSS at rest {report['rss_kib']['before']} KiB, with the streams "
        f"{report['rss_kib']['after']} KiB: **{report['kib_per_stream']} KiB a stream**",
        f"- the workers' CPU over {IDLE_SECONDS} s with every stream open, idle (comments "
        f"every 15 s): {report.get('idle_cpu_percent')}% of a core, the two together",
        f"- delay from a create's 201 to its event at each of the writer's {STREAMS_PER_USER} "
        f"streams, {args.writes} creates, all streams open: "
        + (
            f"**p50 {report['delay']['p50_ms']} ms, p95 {report['delay']['p95_ms']} ms**, "
            f"max {report['delay']['max_ms']} ms ({report['delay']['samples']} of "
            f"{report['delay']['expected']} events seen)"
            if report["delay"].get("samples")
            else "no event seen"
        ),
        "",
        f"crud, {args.duration} s a run, in the order run (50 users of its own, who have no "
        "streams):",
        "",
        "| crud | requests | failures | req/s | p50 ms | p95 ms | workers' CPU ms a request |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, row in crud_rows:
        lines.append(
            f"| {label} | {row.get('requests')} | {row.get('failures')} | {row.get('rps', 0):.1f} "
            f"| {row.get('p50')} | {row.get('p95')} | {row.get('worker_cpu_ms_per_request')} |"
        )
    lines += [
        "",
        "crud with the streams open (mean of its runs) / without (mean of its runs): "
        f"**{report['crud_ratio']}x**; the workers' CPU a request, without / with (what a "
        f"server limited by its own CPU would see as throughput): "
        f"**{report['cpu_per_request_ratio']}x**. The req/s of one run swing by 2x on this "
        "machine with the other sessions' load; the CPU a request does not.",
        "",
        f"Command: `bin/bench events {' '.join(sys.argv[2:])}`".rstrip(),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
