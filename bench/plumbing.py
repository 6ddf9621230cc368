"""What the request plumbing costs on the API fast lane: CPU per `GET /api/todo/<id>`, in-process,
two ways side by side.

- the lane as it serves requests: its routing on the ASGI scope, Django's request object, the
  token's user, the endpoint's operation (todos.api.operations, the same as the DRF view's), the
  JSON renderer and the security headers;
- a bare ASGI function doing only the work no server can skip: the token's cached user, the same
  compiled statement on the same pool, the same JSON body and ETag.

The difference is the plumbing's share of a lane request. A measurement, not a way to serve.

    .venv/bin/python -m bench.plumbing [requests]

Needs a user with an API token (the first token in the development database).
"""

import argparse
import asyncio
import json
import os
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
django.setup()

from rest_framework.authtoken.models import Token  # noqa: E402

from bench.inprocess import call  # noqa: E402
from todos import api_pool, selectors  # noqa: E402
from todos.api.auth import CachedTokenAuthentication  # noqa: E402
from todos.api.etag import etag_for  # noqa: E402
from todos.api.serializers import todo_data  # noqa: E402
from todos.executor import request_pool  # noqa: E402


def bare_get(pool):
    authentication = CachedTokenAuthentication()

    async def app(scope, receive, send):
        await receive()
        key = dict(scope["headers"])[b"authorization"].split()[1].decode()
        user = await authentication.user_for_key(key)
        context = request_pool.set(pool)
        try:
            pk = int(scope["path"].rsplit("/", 1)[1])
            todo = await selectors.aget_todo(owner=user, pk=pk)
        finally:
            request_pool.reset(context)
        body = json.dumps(todo_data(todo), ensure_ascii=False, separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"etag", etag_for(todo).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def cpu_per_request(token, path, app, requests):
    started = time.process_time()
    for _ in range(requests):
        response = await call(token, "GET", path, app=app)
        assert response["status"] == 200, response
    return (time.process_time() - started) / requests


async def main(args):
    token = (await Token.objects.afirst()).key
    created = await call(token, "POST", "/api/todo", json.dumps({"title": "plumbing"}).encode())
    pk = json.loads(created["body"])["id"]
    path = f"/api/todo/{pk}"
    pool = api_pool.make()
    await pool.open()
    ways = {"the lane": None, "bare ASGI function": bare_get(pool)}
    samples = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, app in ways.items():
            await cpu_per_request(token, path, app, 100)  # warm up
            samples[name].append(await cpu_per_request(token, path, app, args.requests))
    await call(token, "DELETE", path)
    await pool.close()
    lane, bare = (statistics.median(samples[name]) for name in ways)
    for name in ways:
        print(f"{name}: {statistics.median(samples[name]) * 1e6:.0f} us CPU per GET")
    print(f"the plumbing: {(lane - bare) * 1e6:.0f} us, {1 - bare / lane:.0%} of a lane GET")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.plumbing", description=__doc__)
    parser.add_argument("requests", type=int, nargs="?", default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
