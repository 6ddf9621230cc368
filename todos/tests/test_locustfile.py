"""A short run of every scenario of locustfile.py against a real server on the test database, so
the load tests never rot. No timing is asserted here: speed belongs in bin/bench."""

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

from todos.tests.real_servers import running_server

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)

# Enough todos that every bigtable page, even the rarest filter (open and high, 2%), has a next.
BIGTABLE_ROWS = 5000
CRUD_OPERATIONS = {"create", "get", "list filtered", "update", "delete", "list"}
BIGTABLE_PAGES = {"open, high", "open", "done, low", "all"}


def url_of_the_test_database():
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    return f"postgres://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def server(transactional_db):
    """The service under uvicorn, one worker and a small pool, on the test database."""
    with running_server(
        url_of_the_test_database(),
        WEB_CONCURRENCY="1",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="10",
        DB_POOL_MAX_WAITING="1000",  # the burst queues 200 requests for 10 connections
    ) as (base_url, _log):
        yield base_url


@pytest.fixture
def tokens_file(tmp_path):
    path = tmp_path / "tokens.json"
    call_command("seed_loadtest", users=3, bigtable_rows=BIGTABLE_ROWS, tokens_file=path)
    return path


def run_locust(scenario, *, host, tokens_file, tmp_path, users=1, seconds=3):
    summary_path = tmp_path / f"{scenario}.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "locustfile.py"),
            "--headless",
            "--only-summary",
            "--scenario",
            scenario,
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "-H",
            host,
            "--tokens-file",
            str(tokens_file),
            "--summary-file",
            str(summary_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return result, summary


def assert_clean_run(result, summary, operations):
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["passed"] is True
    assert summary["stats"]["Aggregated"]["requests"] > 0
    assert summary["stats"]["Aggregated"]["failures"] == 0
    for name in operations:
        assert summary["stats"][name]["requests"] > 0, name


def test_the_burst_creates_200_todos_at_once_with_no_failures(server, tokens_file, tmp_path):
    result, summary = run_locust(
        "burst", host=server, tokens_file=tokens_file, tmp_path=tmp_path, seconds=60
    )
    assert_clean_run(result, summary, {"create"})
    assert summary["stats"]["create"]["requests"] == 200
    assert summary["burst_created"] == 200


def test_the_crud_loop_runs_every_operation_with_no_failures(server, tokens_file, tmp_path):
    result, summary = run_locust(
        "crud", host=server, tokens_file=tokens_file, tmp_path=tmp_path, users=3
    )
    assert_clean_run(result, summary, CRUD_OPERATIONS)


def test_the_bulk_scenario_posts_batches_of_200_with_no_failures(server, tokens_file, tmp_path):
    result, summary = run_locust("bulk", host=server, tokens_file=tokens_file, tmp_path=tmp_path)
    assert_clean_run(result, summary, {"bulk 200"})
    assert summary["rows_per_s"] > 0


def test_the_bigtable_scenario_reads_filtered_pages_and_their_next_pages(
    server, tokens_file, tmp_path
):
    result, summary = run_locust(
        "bigtable", host=server, tokens_file=tokens_file, tmp_path=tmp_path, users=2
    )
    operations = BIGTABLE_PAGES | {f"{name}, next page" for name in BIGTABLE_PAGES}
    assert_clean_run(result, summary, operations)


def test_a_run_whose_requests_fail_exits_non_zero(server, tokens_file, tmp_path):
    tokens = json.loads(tokens_file.read_text())
    tokens["crud"] = ["not-a-token"]
    tokens_file.write_text(json.dumps(tokens))
    result, summary = run_locust(
        "crud", host=server, tokens_file=tokens_file, tmp_path=tmp_path, seconds=2
    )
    assert result.returncode == 1
    assert summary["passed"] is False
    assert summary["stats"]["create"]["failures"] > 0
