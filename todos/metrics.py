"""The Prometheus metrics (prometheus_client) and `GET /metrics`.

Under `manage.py serve` every worker writes its values to files in PROMETHEUS_MULTIPROC_DIR (one
directory per run, made and removed by the serve command), and the worker that answers a scrape
sums the files of all of them. Without that variable (tests, a single uvicorn) the values live
in this process. Names and meanings: docs/operations.md.
"""

import glob
import ipaddress
import os

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
# This worker's requests in flight, counted in a plain integer on the request path (two writes
# to the gauge's file per request cost more than the count is worth) and written to the gauge
# with the pools' figures: each second, and when this worker answers a scrape.
in_flight = 0
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


_last_counts = {}  # pool name -> (pool, {counter: last value seen})


def refresh_pools():
    """Write this worker's pool figures (the gauges as they are now, the counters by growth) and
    its requests in flight."""
    IN_FLIGHT.set(in_flight)
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
    refresh_pools()
    if MULTIPROC_DIR:
        forget_dead_workers()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, MULTIPROC_DIR)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
