"""Instructions per request of the metrics wrapper alone (todos.observe.Observed) around an
application that answers at once, counted by valgrind's callgrind: what each part of the
wrapper costs, without the rest of a request around it. Each variant is measured between two
markers (callgrind zeroes its counters on entering os.getpgrp and dumps them on entering
os.getppid), so one process under callgrind measures them all.

    .venv/bin/python -m bench.wrapper_instructions [--requests 2000]

A variant's figure is the wrapper's and the dummy application's; "bare" is the dummy alone,
so the wrapper's own cost is a variant's figure minus bare's.
"""

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def scope(pk):
    path = f"/api/todo/{pk}"
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"python-httpx/0.28.1"),
            (b"accept", b"*/*"),
            (b"accept-encoding", b"gzip, deflate"),
            (b"connection", b"keep-alive"),
            (b"authorization", b"Token 0123456789abcdef0123456789abcdef01234567"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def dummy(scope, receive, send):
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"etag", b'"1-2"'),
                (b"allow", b"GET, PUT, PATCH, DELETE"),
                (b"x-frame-options", b"DENY"),
                (b"content-length", b"2"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def sent(message):
    pass


async def run(app, requests):
    for number in range(requests):
        await app(scope(100000 + number // 3), receive, sent)  # a todo's calls follow each other


def measure(args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="todos-metrics-"))
    import django

    django.setup()
    from todos.observe import Observed

    request_log = logging.getLogger("todos.requests")
    variants = {
        "bare": (dummy, False),
        "wrapper, no request lines": (Observed(dummy), True),
        "wrapper and request lines": (Observed(dummy), False),
    }
    for name, (app, quiet) in variants.items():
        request_log.disabled = quiet
        asyncio.run(run(app, 200))  # warm up
        os.getpgrp()  # callgrind: zero
        asyncio.run(run(app, args.requests))
        os.getppid()  # callgrind: dump
        print(name, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.wrapper_instructions")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        return measure(args)
    out = Path(tempfile.mkdtemp(prefix="wrapper-instructions-"))
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out / 'callgrind'}",
            "--zero-before=os_getpgrp",
            "--dump-before=os_getppid",
            sys.executable,
            "-m",
            "bench.wrapper_instructions",
            "--measure",
            "--requests",
            str(args.requests),
        ],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the request lines
        text=True,
        check=True,
    )
    names = result.stdout.split("\n")[:-1]
    dumps = sorted(out.glob("callgrind.*"), key=lambda path: int(path.suffix[1:]))
    figures = {}
    for name, dump in zip(names, dumps, strict=False):
        summary = next(
            line for line in dump.read_text().splitlines() if line.startswith("summary:")
        )
        figures[name] = int(summary.split()[1]) / args.requests
    bare = figures.get("bare", 0)
    for name, value in figures.items():
        print(f"{name}: {value:,.0f} instructions per request ({value - bare:+,.0f} over bare)")


if __name__ == "__main__":
    main()
