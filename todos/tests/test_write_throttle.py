"""Per-user rate limits on writes, counted in the shared Redis: 429 with Retry-After. The
throttle's clock stands 30 s into a minute (conftest.py's throttle_clock) unless a test moves it."""

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import THROTTLE_NOW
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
    assert response["Retry-After"] == "30"  # the rest of this minute
    assert response.json() == {"detail": "Request was throttled. Expected available in 30 seconds."}
    assert Todo.objects.count() == 3


def test_the_count_starts_again_when_the_window_ends(alice_api, settings, throttle_clock):
    settings.THROTTLE_WRITES = "1/min"
    assert alice_api.post("/api/todo", {"title": "a"}, format="json").status_code == 201
    assert alice_api.post("/api/todo", {"title": "b"}, format="json")["Retry-After"] == "30"

    throttle_clock.advance(29)  # the window's last second
    late = alice_api.post("/api/todo", {"title": "c"}, format="json")
    assert (late.status_code, late["Retry-After"]) == (429, "1")

    throttle_clock.advance(1)  # the next minute
    assert alice_api.post("/api/todo", {"title": "d"}, format="json").status_code == 201
    assert alice_api.post("/api/todo", {"title": "e"}, format="json").status_code == 429
    assert sorted(Todo.objects.values_list("title", flat=True)) == ["a", "d"]


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
    assert asyncio.run(athrottle_writes(alice.pk)) == 3570
    assert throttle_writes(alice.pk) == 3570


def test_worker_processes_share_the_counter(alice, settings):
    """Another process (as another server worker would be) sees this process's count."""
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHE_KEY_PREFIX = prefix
    settings.THROTTLE_WRITES = "1/hour"
    assert throttle_writes(alice.pk) is None

    script = "from todos.api import throttling; import sys; "
    script += f"throttling.clock = lambda: {THROTTLE_NOW!r}; "  # the same window as this test's
    script += f"sys.exit(0 if throttling.throttle_writes({alice.pk}) == 3570 else 1)"
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
