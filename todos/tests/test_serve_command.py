import os
import subprocess
import sys
from pathlib import Path

from todos.management.commands.serve import HEADROOM, fit_workers_and_pool

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_that_fit_are_kept():
    assert fit_workers_and_pool(
        workers=1, pool_max=50, available=97, pool_max_is_explicit=False
    ) == (1, 50, None)


def test_it_lowers_the_pool_max_per_worker_when_the_default_does_not_fit():
    workers, pool_max, note = fit_workers_and_pool(
        workers=2, pool_max=50, available=97, pool_max_is_explicit=False
    )
    assert (workers, pool_max) == (2, (97 - HEADROOM) // 2)
    assert workers * pool_max <= 97 - HEADROOM
    assert "pool max per worker lowered (50 -> 46)" in note


def test_it_runs_fewer_workers_to_keep_an_explicit_pool_max():
    workers, pool_max, note = fit_workers_and_pool(
        workers=4, pool_max=50, available=97, pool_max_is_explicit=True
    )
    assert (workers, pool_max) == (1, 50)
    assert "fewer workers (4 -> 1)" in note


def test_an_unreachable_database_stops_with_one_line_naming_database_url():
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/todos"}
    result = subprocess.run(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "CommandError: Cannot reach PostgreSQL at DATABASE_URL=postgres://postgres@127.0.0.1:1/todos"
    )
