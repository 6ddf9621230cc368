"""CPU per request of the crud loop through the fast lane alone and through the metrics wrapper
(with and without the per-request log line), in the same process, the variants interleaved in
short rounds and compared round by round: steadier than req/s on a shared machine. Also the cost
of the route label, cached per path shape and not.

    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) .venv/bin/python -m bench.metrics_inprocess [rounds] 2>/dev/null

(stderr takes the log lines; the multiprocess directory makes the metrics write files as under
`manage.py serve`). Needs a user with an API token, like bench.inprocess.
"""

import argparse
import asyncio
import json
import logging
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
django.setup()

from rest_framework.authtoken.models import Token  # noqa: E402

from todoproject import asgi  # noqa: E402
from todos import observe  # noqa: E402

from .inprocess import call  # noqa: E402

LOOPS_PER_ROUND = 10  # 60 requests


async def crud(token, app, loops):
    for _ in range(loops):
        body = json.dumps({"title": "x"}).encode()
        pk = json.loads((await call(token, "POST", "/api/todo", body, app=app))["body"])["id"]
        await call(token, "GET", f"/api/todo/{pk}", app=app)
        await call(token, "GET", "/api/todo", query=b"completed=false&priority=high", app=app)
        await call(token, "PUT", f"/api/todo/{pk}", json.dumps({"title": "y"}).encode(), app=app)
        assert (await call(token, "DELETE", f"/api/todo/{pk}", app=app))["status"] == 204
        await call(token, "GET", "/api/todo", app=app)


async def main(rounds):
    token = (await Token.objects.afirst()).key
    request_log = logging.getLogger("todos.requests")
    variants = {
        "lane alone (METRICS_ENABLED=0)": (asgi.lane, False),
        "metrics and request lines": (asgi.application, False),
        "metrics, no request lines (LOG_REQUESTS=0)": (asgi.application, True),
    }
    for app, quiet in variants.values():  # warm up: pools open, statements compiled
        request_log.disabled = quiet
        await crud(token, app, 15)
    cpu = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (app, quiet) in variants.items():
            request_log.disabled = quiet
            started = time.process_time()
            await crud(token, app, LOOPS_PER_ROUND)
            cpu[name].append((time.process_time() - started) * 1e6 / (6 * LOOPS_PER_ROUND))
    request_log.disabled = False
    off = next(iter(variants))
    for name in variants:
        line = f"{name}: median {statistics.median(cpu[name]):.0f} us CPU per request"
        if name != off:
            pairs = sorted(a / b for a, b in zip(cpu[name], cpu[off], strict=True))
            quarter = len(pairs) // 4
            line += (
                f"; / lane alone, round by round: median {statistics.median(pairs):.3f} "
                f"(quartiles {pairs[quarter]:.3f}-{pairs[-quarter - 1]:.3f})"
            )
        print(line)
    print(f"{rounds} rounds of {6 * LOOPS_PER_ROUND} requests; load average {os.getloadavg()}")


def route_costs(n=20000):
    per_shape = observe.route_of.__wrapped__
    uncached = observe._route_of_shape.__wrapped__
    for label, work in (
        ("route label, cached per path", lambda: observe.route_of("/api/todo/12345")),
        ("route label, cached per shape", lambda: per_shape("/api/todo/12345")),
        ("route label, resolved each time", lambda: uncached("/api/todo/11111")),
    ):
        work()
        best = min(_cpu_per_call(work, n) for _ in range(5))
        print(f"{label}: {best:.1f} us")


def _cpu_per_call(work, n):
    started = time.process_time()
    for _ in range(n):
        work()
    return (time.process_time() - started) / n * 1e6


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rounds", type=int, nargs="?", default=40)
    args = parser.parse_args()
    asyncio.run(main(args.rounds))
    route_costs()
