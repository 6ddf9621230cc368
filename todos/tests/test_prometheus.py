"""The production command with 2 workers, scraped by a real Prometheus (Debian's `prometheus`,
bin/install-prometheus): one scrape sums both workers, Prometheus' API gives the request rate and
the pool gauges, a killed worker stops counting while its counts stay, the metrics directory
goes with the server."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token

from conftest import PASSWORD
from todos.tests.metrics_tools import promtool_check, samples, value
from todos.tests.real_servers import Served, database_url, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.direct_only]

POOLS = {"DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": "3"}
LANE_POOL = {"DB_API_POOL_MIN_SIZE": "1", "DB_API_POOL_MAX_SIZE": "2"}
LIST = {"method": "GET", "route": "api/todo", "status": "200"}


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker):
    server = Served(
        database_url(connection.settings_dict), WEB_CONCURRENCY="2", **POOLS, **LANE_POOL
    )
    yield server
    server.remove()


@pytest.fixture
def token():
    user = User.objects.create_user(username=f"scraped-{time.monotonic_ns()}", password=PASSWORD)
    return Token.objects.create(user=user).key


def scrape(served):
    response = httpx.get(f"{served.url}/metrics", timeout=10)
    assert response.status_code == 200
    return response.text


def request_lines(served):
    lines = []
    for raw in served.log().splitlines():
        if raw.startswith('{"'):
            line = json.loads(raw)
            if line["logger"] == "todos.requests":
                lines.append(line)
    return lines


def list_todos(served, token):
    """One GET /api/todo on a connection of its own (the kernel picks the worker)."""
    response = httpx.get(
        f"{served.url}/api/todo", headers={"Authorization": f"Token {token}"}, timeout=10
    )
    assert response.status_code == 200
    return response.headers["X-Request-ID"]


def counted_in(text, expected):
    """The scrape's text once it counts `expected` listings (LIST), else None."""
    return text if value(samples(text), "todos_http_requests_total", **LIST) >= expected else None


def _labels(line):
    return {"method": line["method"], "route": line["route"], "status": str(line["status"])}


def until(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_one_scrape_shows_the_requests_of_both_workers(served, token):
    before = value(samples(scrape(served)), "todos_http_requests_total", **LIST)
    sent = []

    def both_workers_answered():
        sent.append(list_todos(served, token))
        pids = {line["pid"] for line in request_lines(served) if line["request_id"] in sent}
        return len(pids) == 2

    until(both_workers_answered, "both workers answered a request")

    # Each worker writes its counts every second: the other worker's come within one.
    text = until(
        lambda: counted_in(scrape(served), before + len(sent)), "both workers' requests counted"
    )
    scraped = samples(text)
    assert value(scraped, "todos_http_requests_total", **LIST) == before + len(sent)
    assert value(scraped, "todos_worker_processes") == 2
    assert value(scraped, "todos_db_pool_max_size", pool="lane") == 2 * 2
    assert value(scraped, "todos_db_pool_max_size", pool="django") == 2 * 3
    assert promtool_check(text) == (0, "")
    # Each worker writes its pools' figures every second: both lanes' pools are open now.
    until(
        lambda: value(samples(scrape(served)), "todos_db_pool_size", pool="lane") >= 2,
        "both workers' lane pools in the scrape",
    )
    log = served.log()
    assert token not in log
    assert PASSWORD not in log


@pytest.fixture
def prometheus(served):
    """A Prometheus server scraping the served app every second; yields a query function."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: run bin/install-prometheus"
    home = Path(tempfile.mkdtemp(prefix="todos-prometheus-"))
    port = free_port(range(9490, 9590))
    (home / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: todos\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{served.port}']}}]\n"
    )
    with open(home / "prometheus.log", "wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={home / 'prometheus.yml'}",
                f"--storage.tsdb.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{port}/api/v1"

    def query(promql):
        """The query's one value now, or None while it has none."""
        response = httpx.get(f"{api}/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        result = response.json()["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def ready():
        try:
            return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None  # exited: fail below with its log

    try:
        until(ready, "Prometheus ready")
        assert process.poll() is None, (home / "prometheus.log").read_text()[-3000:]
        yield query
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def test_prometheus_scrapes_the_request_rate_and_the_pools(served, token, prometheus):
    until(lambda: prometheus('up{job="todos"}') == 1, "the target up")
    before = value(samples(scrape(served)), "todos_http_requests_total", **LIST)
    for _ in range(40):
        list_todos(served, token)
    total = 'sum(todos_http_requests_total{route="api/todo",method="GET",status="200"})'

    until(lambda: prometheus(total) == before + 40, f"Prometheus counting {before + 40}")

    rate = until(
        lambda: prometheus('sum(rate(todos_http_requests_total{route="api/todo"}[30s]))'),
        "a request rate",
    )
    assert rate > 0
    p95 = prometheus(
        "histogram_quantile(0.95, sum by (le) "
        '(rate(todos_http_request_duration_seconds_bucket{route="api/todo"}[30s])))'
    )
    assert 0 < p95 < 10
    assert prometheus('sum(todos_db_pool_size{pool="lane"})') >= 1
    assert prometheus('sum(todos_db_pool_max_size{pool="lane"})') == 2 * 2
    assert prometheus('sum(todos_db_pool_waiting{pool="django"})') == 0
    assert prometheus("sum(todos_worker_processes)") == 2


def test_a_killed_worker_stops_counting_and_its_requests_stay_counted(served, token):
    pids = set()

    def two_pids():
        list_todos(served, token)
        pids.update(line["pid"] for line in request_lines(served))
        return len(pids) >= 2

    until(two_pids, "requests answered by both workers")
    # A worker writes its counts each second (one killed before that loses them): wait for all.
    listed = [line for line in request_lines(served) if _labels(line) == LIST]
    until(lambda: counted_in(scrape(served), len(listed)), "every request counted")
    counted = len(listed)
    started = served.log().count("Started server process")
    victim = max(pids)

    os.kill(victim, signal.SIGKILL)  # no exit code runs: uvicorn starts another worker
    until(
        lambda: served.log().count("Started server process") > started,
        "the replacement worker",
    )

    scraped = samples(scrape(served))
    assert value(scraped, "todos_worker_processes") == 2  # not 3: the dead one was marked
    assert value(scraped, "todos_db_pool_max_size", pool="django") == 2 * 3
    assert value(scraped, "todos_http_requests_total", **LIST) == counted


def test_a_worker_that_exits_writes_its_last_counts_as_it_goes(token):
    # No timed writes (an hour apart): the old workers' counts reach the scrape only if they
    # write them on their way out.
    server = Served(
        database_url(connection.settings_dict),
        WEB_CONCURRENCY="2",
        METRICS_REFRESH_SECONDS="3600",
        GRACEFUL_DRAIN_SECONDS="0",
        **POOLS,
        **LANE_POOL,
    )
    try:
        for _ in range(10):
            list_todos(server, token)
        old_workers = {line["pid"] for line in request_lines(server)}
        started = server.log().count("Started server process")

        server.process.send_signal(signal.SIGHUP)  # passed on: uvicorn replaces its workers

        until(
            lambda: (
                server.log().count("Started server process") >= started + 2
                and not any(_alive(pid) for pid in old_workers)
            ),
            "the workers replaced",
        )
        assert value(samples(scrape(server)), "todos_http_requests_total", **LIST) == 10
    finally:
        server.stop()
        server.remove()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_metrics_directory_goes_with_the_server(served):
    [directory] = served.tmp.glob("todos-metrics-*")
    assert list(directory.glob("counter_*.db"))
    assert served.stop() == 0
    assert list(served.tmp.glob("todos-metrics-*")) == []
