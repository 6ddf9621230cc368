"""The Prometheus metrics (prometheus_client) and `GET /metrics`.

Under `manage.py serve` every worker writes its values to files in PROMETHEUS_MULTIPROC_DIR (one
directory per run, made and removed by the serve command), and the worker that answers a scrape
sums the files of all of them. Without that variable (tests, a single uvicorn) the values live
in this process. Names and meanings: docs/operations.md.
"""

import atexit
import bisect
import glob
import ipaddress
import os
import threading

from django.conf import settings
from django.db.backends.postgresql.base import DatabaseWrapper
from django.http import HttpResponse
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from . import api_pool, replica

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

# Resolve 1-10 ms (the lane's requests) and still place slow ones.
LATENCY_BUCKETS = (
    0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip

REQUESTS = Counter(
    "todos_http_requests",
    "HTTP requests answered, by method, route pattern and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "todos_http_request_duration_seconds",
    "Time from the request's arrival at the application to its last response byte sent.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge(
    "todos_http_requests_in_flight",
    "Requests being answered now.",
    multiprocess_mode="livesum",
)
THROTTLED = Counter(
    "todos_http_throttled_requests",
    "Requests refused with 429 (write rate or failed-login bound), by route pattern.",
    ["route"],
)
REPLAYS = Counter(
    "todos_idempotent_replays",
    "Creates answered with the stored response of an earlier request with the same "
    "Idempotency-Key.",
    ["route"],
)
DATABASE_ERRORS = Counter(
    "todos_database_errors",
    "Requests answered 503 because of the database: pool_timeout (no connection within "
    "DB_POOL_TIMEOUT), pool_full (the wait queue was full), unavailable (any other "
    "OperationalError).",
    ["kind"],
)
EVENT_STREAMS = Gauge(
    "todos_event_streams_open",
    "Server-Sent Event streams open now (GET /api/events).",
    multiprocess_mode="livesum",
)
WORKERS = Gauge(
    "todos_worker_processes",
    "Worker processes alive (a dead worker stops counting at the next scrape).",
    multiprocess_mode="livesum",
)

WORKERS.set(1)  # at import: a worker counts from its start, before its first request

# "django": Django's pool; "lane": the API fast lane's; with a replica (todos.replica) also
# "django_replica" and "lane_replica", their twins on the replica's server.
POOL_LABELS = ["pool"]
POOL_GAUGES = {
    "size": Gauge("todos_db_pool_size", "Connections open in the pool.", POOL_LABELS, multiprocess_mode="livesum"),
    "max": Gauge("todos_db_pool_max_size", "The pool's bound (max_size).", POOL_LABELS, multiprocess_mode="livesum"),
    "in_use": Gauge("todos_db_pool_in_use", "Connections lent to requests.", POOL_LABELS, multiprocess_mode="livesum"),
    "idle": Gauge("todos_db_pool_idle", "Open connections waiting in the pool.", POOL_LABELS, multiprocess_mode="livesum"),
    "waiting": Gauge("todos_db_pool_waiting", "Requests waiting for a connection.", POOL_LABELS, multiprocess_mode="livesum"),
}  # fmt: skip
# Counters of psycopg_pool's get_stats(), added as they grow.
POOL_COUNTERS = {
    "requests_num": (Counter("todos_db_pool_checkouts", "Connections asked of the pool.", POOL_LABELS), 1),
    "requests_errors": (Counter("todos_db_pool_timeouts", "Connection requests that failed: timed out or the wait queue was full.", POOL_LABELS), 1),
    "requests_wait_ms": (Counter("todos_db_pool_wait_seconds", "Time requests spent waiting for a connection.", POOL_LABELS), 0.001),
}  # fmt: skip


def lane_pool(alias="default"):
    """The fast lane's pool of that database in this process, None until the lane has opened it."""
    return api_pool.current(alias)


def django_pool(alias="default"):
    """Django's pool of that database in this process, None until a request has opened it. Read
    from Django's class-level registry: `connection.pool` would open one (20 connections) just
    to report."""
    return DatabaseWrapper._connection_pools.get(alias)


def configured_max_sizes():
    """Each pool's bound, also before the pool is opened."""
    lane_max = settings.DB_API_POOL_MAX_SIZE if settings.API_FAST_LANE else 0
    sizes = {
        "django": settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"],
        "lane": lane_max,
    }
    if replica.configured():
        sizes["django_replica"] = settings.DATABASES[replica.ALIAS]["OPTIONS"]["pool"]["max_size"]
        sizes["lane_replica"] = lane_max
    return sizes


def pools():
    """Each pool's name and how to find it in this process (None while not opened)."""
    found = {"django": django_pool, "lane": lane_pool}
    if replica.configured():
        found["django_replica"] = lambda: django_pool(replica.ALIAS)
        found["lane_replica"] = lambda: lane_pool(replica.ALIAS)
    return found


class Tally:
    """This worker's request figures, counted on the request path in plain Python structures and
    written to prometheus_client's values by flush(): each second (a timer on the event loop,
    todos.observe), when this worker answers a scrape, and at the worker's exit. A value of
    prometheus_client costs a lock and, under `manage.py serve`, a write to its file per change;
    a request changed three of them. So a scrape shows another worker's requests up to a second
    late, and a worker killed outright loses its last second of counts.

    One writer: count() and the in-flight figure run on the event loop's thread only. flush()
    may run in another (the scrape's view is sync); it reads copies, made whole under the GIL,
    and writes what grew since its last flush."""

    def __init__(self):
        self.in_flight = 0
        # (method, route, status) -> [requests per latency bucket (LATENCY's, +Inf last)...,
        # sum of their durations]: the request count is the buckets' sum, and the 429s of a
        # route are its count at status 429.
        self.figures = {}
        self.replays = {}  # route -> replayed creates
        self._written = {}  # the same keys -> the figures flush() has written
        self._written_replays = {}
        self._lock = threading.Lock()

    def count(self, method, route, status, duration):
        figures = self.figures.get((method, route, status))
        if figures is None:
            figures = self.figures[method, route, status] = [0] * (len(LATENCY_BUCKETS) + 1) + [0.0]
        figures[bisect.bisect_left(LATENCY_BUCKETS, duration)] += 1  # prometheus' `<= bound`
        figures[-1] += duration

    def count_replay(self, route):
        self.replays[route] = self.replays.get(route, 0) + 1

    def flush(self):
        with self._lock:
            for (method, route, status), figures in list(self.figures.items()):
                figures = figures.copy()
                written = self._written.get((method, route, status))
                grown = (
                    figures
                    if written is None
                    else [a - b for a, b in zip(figures, written, strict=True)]
                )
                requests = sum(grown[:-1])
                if not requests:
                    continue
                REQUESTS.labels(method, route, str(status)).inc(requests)
                latency = LATENCY.labels(method, route)
                # prometheus_client has no public way to add n observations at once: its buckets'
                # values are incremented as observe() increments them.
                for bucket, grew in zip(latency._buckets, grown[:-1], strict=True):
                    if grew:
                        bucket.inc(grew)
                latency._sum.inc(grown[-1])
                if status == 429:
                    THROTTLED.labels(route).inc(requests)
                self._written[method, route, status] = figures
            for route, replays in list(self.replays.items()):
                written = self._written_replays.get(route, 0)
                if replays > written:
                    REPLAYS.labels(route).inc(replays - written)
                    self._written_replays[route] = replays


tally = Tally()
atexit.register(tally.flush)  # a worker's exit (uvicorn's spawned processes run atexit)


def refresh():
    """Write this worker's figures: its requests (tally.flush), those in flight, its pools."""
    tally.flush()
    IN_FLIGHT.set(tally.in_flight)
    refresh_pools()


_last_counts = {}  # pool name -> (pool, {counter: last value seen})


def refresh_pools():
    """Write this worker's pool figures (the gauges as they are now, the counters by growth)."""
    max_sizes = configured_max_sizes()
    for name, get_pool in pools().items():
        pool = get_pool()
        stats = pool.get_stats() if pool is not None else {}
        size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
        figures = {
            "size": size,
            "max": pool.max_size if pool is not None else max_sizes[name],
            "in_use": size - available,
            "idle": available,
            "waiting": stats.get("requests_waiting", 0),
        }
        for figure, value in figures.items():
            POOL_GAUGES[figure].labels(name).set(value)
        seen_pool, seen = _last_counts.get(name, (None, {}))
        if seen_pool is not pool:  # a new pool starts from zero
            seen = {}
        for key, (counter, scale) in POOL_COUNTERS.items():
            value = stats.get(key, 0)  # get_stats() leaves out counters still at zero
            child = counter.labels(name)  # the series exists from the start, at 0
            if value > seen.get(key, 0):
                child.inc((value - seen.get(key, 0)) * scale)
            seen[key] = value
        _last_counts[name] = (pool, seen)


def forget_dead_workers():
    """mark_process_dead for every worker whose files are there but whose process is gone
    (uvicorn's supervisor has no hook on a worker's exit, and a killed worker runs none)."""
    pids = {
        int(path.rsplit("_", 1)[1].removesuffix(".db"))
        for path in glob.glob(os.path.join(MULTIPROC_DIR, "gauge_live*_*.db"))
    }
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, MULTIPROC_DIR)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _allowed_networks():
    return [ipaddress.ip_network(entry, strict=False) for entry in settings.METRICS_ALLOWED_IPS]


def may_read(request):
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        address = None
    if address is not None and any(address in net for net in _allowed_networks()):
        return True
    return request.user.is_staff


@require_safe
def view(request):
    """GET /metrics: staff, or a client address in METRICS_ALLOWED_IPS."""
    if not may_read(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    refresh()
    if MULTIPROC_DIR:
        forget_dead_workers()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, MULTIPROC_DIR)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
