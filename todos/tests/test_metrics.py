"""GET /metrics on the project's ASGI application (fast lane and Django's handler alike):
who may read it, what it counts, and promtool's lint of it."""

import re
import uuid

import psycopg_pool
import pytest
import requests
from django.test import Client
from prometheus_client import REGISTRY, CollectorRegistry, Histogram
from rest_framework.settings import api_settings

from conftest import PASSWORD
from todos import metrics
from todos.tests.metrics_tools import promtool_check, samples, value

pytestmark = pytest.mark.django_db
live_only = pytest.mark.parametrize("api_transport", ["live"])

DETAIL = "api/todo/<todo_id:pk>"


def scrape(live_url):
    response = requests.get(f"{live_url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.text


def test_anyone_else_than_staff_or_an_allowed_address_gets_403(alice, staff):
    outsider = {"REMOTE_ADDR": "203.0.113.7"}
    assert Client(**outsider).get("/metrics").status_code == 403

    alice_session = Client(**outsider)
    alice_session.login(username="alice", password=PASSWORD)
    assert alice_session.get("/metrics").status_code == 403

    staff_session = Client(**outsider)
    staff_session.login(username="sam", password=PASSWORD)
    assert staff_session.get("/metrics").status_code == 200


def test_loopback_is_allowed_by_default_and_the_list_is_a_setting(settings):
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403


@live_only
def test_requests_are_counted_by_route_pattern_never_by_path(alice_api, live_asgi):
    todo = alice_api.post("/api/todo", {"title": "count me"}, format="json").json()
    before = samples(scrape(live_asgi.url))

    for _ in range(3):
        assert alice_api.get(f"/api/todo/{todo['id']}").status_code == 200  # the lane
    assert alice_api.get("/api/todo/999999999").status_code == 404  # the lane, no such todo
    assert requests.get(f"{live_asgi.url}/api/todo", timeout=10).status_code == 401  # Django
    assert requests.get(f"{live_asgi.url}/no/such/page", timeout=10).status_code == 404

    text = scrape(live_asgi.url)
    after = samples(text)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("todos_http_requests_total", method="GET", route=DETAIL, status="200") == 3
    assert grew("todos_http_requests_total", method="GET", route=DETAIL, status="404") == 1
    assert grew("todos_http_requests_total", method="GET", route="api/todo", status="401") == 1
    assert grew("todos_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert grew("todos_http_request_duration_seconds_count", method="GET", route=DETAIL) == 4
    routes = {v for _, labels in after for k, v in labels if k == "route"}
    assert {DETAIL, "api/todo", "unmatched", "metrics"} <= routes
    assert not [route for route in routes if re.search(r"(^|/)[0-9]+(/|$)", route)]
    label_values = {v for _, labels in after for _, v in labels}
    assert not [v for v in label_values if "999999999" in v or "no/such" in v]
    assert value(after, "todos_http_requests_in_flight") == 1  # this scrape


@live_only
def test_throttled_requests_and_idempotent_replays_are_counted(alice_api, live_asgi, settings):
    settings.THROTTLE_WRITES = "2/min"
    before = samples(scrape(live_asgi.url))
    body = {"title": "once"}
    for _ in range(2):
        response = alice_api.post("/api/todo", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert response.status_code == 201
    assert response["Idempotent-Replayed"] == "true"
    assert alice_api.post("/api/todo", body, format="json").status_code == 429
    after = samples(scrape(live_asgi.url))

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("todos_idempotent_replays_total", route="api/todo") == 1
    assert grew("todos_http_throttled_requests_total", route="api/todo") == 1
    assert grew("todos_http_requests_total", method="POST", route="api/todo", status="429") == 1


def test_database_errors_are_counted_by_kind(client):
    def count(kind):
        return value(
            samples(client.get("/metrics").content.decode()),
            "todos_database_errors_total",
            kind=kind,
        )

    exception_handler = api_settings.EXCEPTION_HANDLER  # todos.api.errors'
    before = count("pool_timeout"), count("pool_full")
    assert exception_handler(psycopg_pool.PoolTimeout("no connection"), {}).status_code == 503
    assert exception_handler(psycopg_pool.TooManyRequests("queue full"), {}).status_code == 503
    assert (count("pool_timeout"), count("pool_full")) == (before[0] + 1, before[1] + 1)


@live_only
def test_both_pools_are_shown_and_promtool_finds_nothing_to_say(alice_api, live_asgi):
    assert alice_api.get("/api/todo").status_code == 200  # opens the lane's pool
    assert requests.get(f"{live_asgi.url}/readyz", timeout=10).status_code == 200  # Django's
    text = scrape(live_asgi.url)
    scraped = samples(text)
    for pool in ("django", "lane"):
        size = value(scraped, "todos_db_pool_size", pool=pool)
        assert size >= 1
        assert value(scraped, "todos_db_pool_max_size", pool=pool) >= size
        in_use, idle = (value(scraped, f"todos_db_pool_{s}", pool=pool) for s in ("in_use", "idle"))
        assert in_use + idle == size
        assert value(scraped, "todos_db_pool_checkouts_total", pool=pool) >= 1
        for name in (
            "todos_db_pool_waiting",
            "todos_db_pool_timeouts_total",
            "todos_db_pool_wait_seconds_total",
        ):
            assert (name, frozenset({("pool", pool)})) in scraped

    assert promtool_check(text) == (0, "")


def test_a_worker_writes_what_it_counted_as_prometheus_client_would_have_counted_it():
    tally = metrics.Tally()  # its own figures, written to the service's metrics
    route = f"test/{uuid.uuid4().hex}"
    reference = Histogram(
        "reference_seconds", "", buckets=metrics.LATENCY_BUCKETS, registry=CollectorRegistry()
    )
    # On the bounds, just past them, and past the last.
    durations = [0.0004, 0.001, 0.0010001, 0.005, 0.0075, 0.2, 2.5, 10.0, 11.0]
    for number, duration in enumerate(durations):
        tally.count("GET", route, 200, duration)
        reference.observe(duration)
        if number in (2, 5):
            tally.flush()  # each flush writes what grew since the one before
    tally.count("POST", route, 429, 0.001)
    tally.count_replay(route)
    tally.flush()
    tally.flush()

    def ours(name, **labels):
        return REGISTRY.get_sample_value(name, {"method": "GET", "route": route, **labels})

    expected = {
        sample.labels["le"]: sample.value
        for sample in reference.collect()[0].samples
        if sample.name == "reference_seconds_bucket"
    }
    assert len(expected) == len(metrics.LATENCY_BUCKETS) + 1
    assert {
        le: ours("todos_http_request_duration_seconds_bucket", le=le) for le in expected
    } == expected
    assert ours("todos_http_request_duration_seconds_sum") == pytest.approx(sum(durations))
    assert ours("todos_http_requests_total", status="200") == len(durations)
    assert ours("todos_http_requests_total", method="POST", status="429") == 1
    assert REGISTRY.get_sample_value("todos_http_throttled_requests_total", {"route": route}) == 1
    assert REGISTRY.get_sample_value("todos_idempotent_replays_total", {"route": route}) == 1
