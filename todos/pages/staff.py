"""A staff dashboard of the connection pool: the pool-status figures drawn, refreshing itself."""

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from ..pool_status import pool_status

COUNTERS = (
    ("requests_num", "Connection requests"),
    ("requests_queued", "Requests that had to wait"),
    ("requests_wait_ms", "Total wait (ms)"),
    ("requests_errors", "Requests that failed"),
    ("connections_num", "Connections opened"),
    ("connections_errors", "Failed connection attempts"),
    ("connections_lost", "Connections lost"),
    ("returns_bad", "Bad connections returned"),
)


@staff_member_required
def pool_dashboard(request):
    status = pool_status()
    partial = request.headers.get("X-Requested-With") == "fetch"
    template = "staff/_pool_panel.html" if partial else "staff/pool.html"
    return render(request, template, {"status": status, **_picture(status)})


def _picture(status):
    """Percentages for the bars (SVG rectangles: the Content-Security-Policy allows no style
    attributes): the pool against its max, the waiters against the queue bound, and this
    server's connections against max_connections."""
    pool, conns, server = status["pool"], status["connections"], status["server"]
    max_size = max(pool["max_size"], 1)
    max_connections = max(server["max_connections"], 1)
    counters = status["counters"]
    reserved = _pct(server["reserved_connections"], max_connections)
    return {
        "pool_bar": {
            "in_use": _pct(conns["in_use"], max_size),
            "idle": _pct(conns["idle"], max_size),
            "min_mark": _pct(pool["min_size"], max_size),
        },
        "api_bar": _api_bar(status["api_pool"]),
        "waiting_pct": _pct(status["requests_waiting"], max(pool["max_waiting"], 1)),
        "server_bar": {
            "current": _pct(server["current_connections"], max_connections),
            "reserved": reserved,
            "reserved_from": round(100 - reserved, 1),  # drawn at the right end
            "budget_mark": _pct(server["workers_x_connections_per_worker"], max_connections),
            "over_budget": server["workers_x_connections_per_worker"] > server["connection_budget"],
        },
        "counters": [(label, counters.get(name, 0), name) for name, label in COUNTERS],
        "trouble": any(counters.get(name, 0) for name in ("requests_errors", "connections_errors")),
    }


def _api_bar(api_pool):
    if api_pool is None:
        return None
    max_size = max(api_pool["pool"]["max_size"], 1)
    return {
        "in_use": _pct(api_pool["connections"]["in_use"], max_size),
        "idle": _pct(api_pool["connections"]["idle"], max_size),
    }


def _pct(part, whole):
    return round(min(max(part / whole, 0), 1) * 100, 1)
