"""How a write reaches the workers holding event streams: PostgreSQL's LISTEN/NOTIFY (one
listening connection a worker) against Redis pub/sub (one subscriber a worker, the writer
publishing after its commit), side by side, taking turns, in one process: the delay from the
writer's commit returning to the listener's receipt, and what the writer pays per write.

    .venv/bin/python -m bench.events_fanout [--rounds 500]

Uses DATABASE_URL's server (no tables: `SELECT pg_notify`) and REDIS_URL."""

import argparse
import asyncio
import os
import statistics
import time

import psycopg
import redis.asyncio as aioredis

CHANNEL = "bench_events_fanout"


async def main(rounds):
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    writer = await psycopg.AsyncConnection.connect(url, autocommit=True)
    listener = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await listener.execute(f"LISTEN {CHANNEL}")
    publisher = aioredis.from_url(redis_url)
    subscriber = aioredis.from_url(redis_url).pubsub()
    await subscriber.subscribe(CHANNEL)
    await subscriber.get_message(timeout=1)  # the subscribe confirmation
    notifies = listener.notifies()

    delays = {"postgres": [], "redis": []}
    costs = {"postgres": [], "redis": []}
    for number in range(rounds):
        # PostgreSQL: the notification is part of the writer's transaction (the sync trigger's
        # pg_notify); it is sent when the commit is.
        started = time.perf_counter()
        await writer.execute("BEGIN")
        await writer.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(number)])
        await writer.execute("COMMIT")
        committed = time.perf_counter()
        await anext(notifies)
        delays["postgres"].append(time.perf_counter() - committed)
        costs["postgres"].append(committed - started)

        # Redis: the same transaction without pg_notify, then a PUBLISH once it has committed.
        started = time.perf_counter()
        await writer.execute("BEGIN")
        await writer.execute("SELECT 1")
        await writer.execute("COMMIT")
        await publisher.publish(CHANNEL, str(number))
        committed = time.perf_counter()
        while (await subscriber.get_message(timeout=5)) is None:
            pass
        delays["redis"].append(time.perf_counter() - committed)
        costs["redis"].append(committed - started)

    for name in delays:
        d = sorted(delays[name])
        print(
            f"{name:8} delay p50 {d[len(d) // 2] * 1e3:.3f} ms, p95 {d[int(len(d) * 0.95)] * 1e3:.3f}"
            f" ms; the writer's transaction + notice {statistics.median(costs[name]) * 1e3:.3f} ms"
            " (median)"
        )
    await writer.close()
    await listener.close()
    await subscriber.aclose()
    await publisher.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    asyncio.run(main(parser.parse_args().rounds))
