"""Per-user rate limits on writes, counted in the shared Redis: 429 with Retry-After."""

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from todos.api.throttling import athrottle_writes, parse_rate, throttle_writes
from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_writes_past_the_limit_are_429_with_retry_after_and_write_nothing(alice_api, settings):
    settings.THROTTLE_WRITES = "3/min"
    for i in range(3):
        assert alice_api.post("/api/todo", {"title": f"t{i}"}, format="json").status_code == 201

    response = alice_api.post("/api/todo", {"title": "one too many"}, format="json")

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Request was throttled.")
    assert Todo.objects.count() == 3


def test_every_kind_of_write_counts_and_reads_do_not(alice, alice_api, settings):
    settings.THROTTLE_WRITES = "4/min"
    todo = create_todo(owner=alice, title="x")
    assert alice_api.patch(f"/api/todo/{todo.pk}", {"title": "y"}, format="json").status_code == 200
    assert alice_api.put(f"/api/todo/{todo.pk}", {"title": "z"}, format="json").status_code == 200
    assert alice_api.post("/api/todo/bulk", [{"title": "a"}], format="json").status_code == 201
    assert alice_api.delete(f"/api/todo/{todo.pk}").status_code == 204
    for _ in range(10):
        assert alice_api.get("/api/todo").status_code == 200

    assert alice_api.post("/api/todo", {"title": "b"}, format="json").status_code == 429


def test_the_limit_is_per_user(alice_api, bob_api, settings):
    settings.THROTTLE_WRITES = "1/min"
    assert alice_api.post("/api/todo", {"title": "a"}, format="json").status_code == 201
    assert alice_api.post("/api/todo", {"title": "a"}, format="json").status_code == 429
    assert bob_api.post("/api/todo", {"title": "b"}, format="json").status_code == 201


def test_the_default_limit_leaves_a_busy_user_alone(alice_api):
    for i in range(60):
        assert alice_api.post("/api/todo", {"title": f"t{i}"}, format="json").status_code == 201


def test_an_unreachable_redis_does_not_stop_writes(alice_api, settings):
    settings.THROTTLE_WRITES = "1/min"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    for _ in range(3):
        assert alice_api.post("/api/todo", {"title": "a"}, format="json").status_code == 201


def test_the_sync_and_async_checks_share_one_counter(alice, settings):
    settings.THROTTLE_WRITES = "2/hour"
    assert throttle_writes(alice.pk) is None
    assert asyncio.run(athrottle_writes(alice.pk)) is None
    wait = asyncio.run(athrottle_writes(alice.pk))
    assert 1 <= wait <= 3600
    assert 1 <= throttle_writes(alice.pk) <= 3600


def test_worker_processes_share_the_counter(alice, settings):
    """Another process (as another server worker would be) sees this process's count."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHE_KEY_PREFIX = prefix
    settings.THROTTLE_WRITES = "1/hour"
    assert throttle_writes(alice.pk) is None

    script = "from todos.api.throttling import throttle_writes; import sys; "
    script += f"sys.exit(0 if throttle_writes({alice.pk}) else 1)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "todoproject.settings",
            "CACHE_KEY_PREFIX": prefix,
            "THROTTLE_WRITES": "1/hour",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("100/min", (100, 60)), ("10/15min", (10, 900)), ("5/s", (5, 1)), ("2/day", (2, 86400))],
)
def test_rates_read_like_drfs(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "100", "x/min", "10/fortnight", "-1/min"])
def test_malformed_rates_are_refused(rate):
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate(rate)
