"""CPU per request of the crud loop (or of 200-item bulk creates) with no network and no load
generator: the ASGI application called in-process, one request at a time, against the development
database. Steadier than req/s on a shared 2-core machine, and what a profile of the request path
starts from.

    API_FAST_LANE=0|1 .venv/bin/python -m bench.inprocess [loops] [--profile]
    .venv/bin/python -m bench.inprocess 40 --bulk    # POST /api/todo/bulk, 200 items each
    .venv/bin/python -m bench.inprocess 40 --batch   # a bulk create of 200, then a PATCH bulk of
                                                     # those 200, in turn: both timed, side by side

Needs a user with an API token: `--token KEY` (default: the first token in the database).
"""

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
django.setup()

from rest_framework.authtoken.models import Token  # noqa: E402

from todoproject.asgi import application  # noqa: E402


async def call(token, method, path, body=b"", query=b"", app=None):
    headers = [(b"host", b"127.0.0.1"), (b"authorization", b"Token " + token.encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    received = False

    async def receive():
        nonlocal received
        if received:
            await asyncio.Event().wait()  # no disconnect: the request runs to its end
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    response = {"body": b""}

    async def send(message):
        if message["type"] == "http.response.start":
            response["status"] = message["status"]
        else:
            response["body"] += message.get("body", b"")

    await (app or application)(scope, receive, send)
    return response


async def crud_loop(token, loops):
    """The crud scenario's loop: create, get, filtered list, update, delete, list."""
    for _ in range(loops):
        created = await call(token, "POST", "/api/todo", json.dumps({"title": "x"}).encode())
        pk = json.loads(created["body"])["id"]
        await call(token, "GET", f"/api/todo/{pk}")
        await call(token, "GET", "/api/todo", query=b"completed=false&priority=high")
        await call(token, "PUT", f"/api/todo/{pk}", json.dumps({"title": "y"}).encode())
        assert (await call(token, "DELETE", f"/api/todo/{pk}"))["status"] == 204
        await call(token, "GET", "/api/todo")


BULK_BODY = json.dumps(
    [{"title": f"Bulk todo {n}", "priority": ("low", "medium", "high")[n % 3]} for n in range(200)]
).encode()


async def bulk_loop(token, loops):
    """The bulk scenario's request, one after another."""
    for _ in range(loops):
        assert (await call(token, "POST", "/api/todo/bulk", BULK_BODY))["status"] == 201


async def batch_against_bulk(token, loops, profile=None):
    """Each round a bulk create of 200, then a PATCH bulk of the 200 it made (each completed and
    renamed); the wall time of each kind, so both see the same machine at the same moments."""
    created_ms, edited_ms = [], []
    for _ in range(loops):
        started = time.perf_counter()
        created = await call(token, "POST", "/api/todo/bulk", BULK_BODY)
        created_ms.append((time.perf_counter() - started) * 1000)
        assert created["status"] == 201
        edits = [
            {"id": todo["id"], "completed": True, "title": todo["title"] + " (done)"}
            for todo in json.loads(created["body"])
        ]
        body = json.dumps(edits).encode()
        if profile:
            profile.enable()
        started = time.perf_counter()
        edited = await call(token, "PATCH", "/api/todo/bulk", body)
        edited_ms.append((time.perf_counter() - started) * 1000)
        if profile:
            profile.disable()
        assert edited["status"] == 200, edited["body"][:300]
    return created_ms, edited_ms


async def main(args):
    token = args.token or (await Token.objects.afirst()).key
    if args.batch:
        await batch_against_bulk(token, 5)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        created_ms, edited_ms = await batch_against_bulk(token, args.loops, profile)
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        create, edit = statistics.median(created_ms), statistics.median(edited_ms)
        print(
            f"{args.loops} rounds of 200 rows: bulk create {create:.1f} ms "
            f"({200_000 / create:,.0f} rows/s), batch PATCH {edit:.1f} ms "
            f"({200_000 / edit:,.0f} rows/s) (medians): batch/bulk rows/s {create / edit:.2f}x"
        )
        return
    loop, per_loop = (bulk_loop, 1) if args.bulk else (crud_loop, 6)
    await loop(token, 5 if args.bulk else 20)  # warm up: pools open, statements compiled
    profile = cProfile.Profile(time.process_time) if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    await loop(token, args.loops)
    if profile:
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    requests = args.loops * per_loop
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    lane = os.environ.get("API_FAST_LANE", "1")
    print(
        f"API_FAST_LANE={lane}: {requests} requests, {cpu * 1000 / requests:.2f} ms CPU and "
        f"{wall * 1000 / requests:.2f} ms wall per request"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("loops", type=int, nargs="?", default=300)
    parser.add_argument("--token")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--bulk", action="store_true", help="200-item bulk creates instead")
    parser.add_argument("--batch", action="store_true", help="batch PATCH against bulk create")
    asyncio.run(main(parser.parse_args()))
