"""python -m bench.explain_list_queries: the plans of the API's own list queries."""

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection

from todos.tests.real_servers import ROOT, database_url

pytestmark = pytest.mark.django_db(transaction=True)  # seed_loadtest VACUUMs
USER = "loadtest-bigtable"


def test_it_explains_the_first_and_next_page_of_every_bigtable_list(tmp_path):
    call_command(
        "seed_loadtest",
        users=1,
        bigtable_rows=3000,
        tokens_file=tmp_path / "t.json",
        stdout=io.StringIO(),
    )
    explained = subprocess.run(
        [sys.executable, "-m", "bench.explain_list_queries", "--username", USER, "--repeat", "1"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(connection.settings_dict)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert explained.returncode == 0, explained.stderr
    plans = json.loads(explained.stdout)

    assert {(p["list"], p["page"]) for p in plans} == {
        (name, page)
        for name in ("open, high", "open", "done, low", "all")
        for page in ("first", "next")
    }
    for plan in plans:
        assert plan["sql"].startswith('SELECT "todos"."id"')
        assert 'ORDER BY "todos"."created_at" DESC, "todos"."id" DESC' in plan["sql"]
        assert plan["plan"].startswith("Limit")
        assert plan["execution_ms"] > 0  # EXPLAIN ANALYZE ran it; a bare EXPLAIN has no time
        assert "Execution Time:" in plan["plan"]
        for index in plan["indexes"]:  # the indexes it names are the ones the plan shows
            assert f" {index} " in plan["plan"]
    next_page = next(p for p in plans if p["list"] == "all" and p["page"] == "next")
    assert '"todos"."created_at" <' in next_page["sql"]
