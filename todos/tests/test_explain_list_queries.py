import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)  # seed_loadtest VACUUMs


def test_it_explains_the_first_and_next_page_of_every_bigtable_list(tmp_path):
    call_command(
        "seed_loadtest",
        users=1,
        bigtable_rows=3000,
        tokens_file=tmp_path / "t.json",
        stdout=io.StringIO(),
    )
    out = io.StringIO()
    call_command("explain_list_queries", username="loadtest-bigtable", repeat=1, stdout=out)
    plans = json.loads(out.getvalue())

    assert {(p["list"], p["page"]) for p in plans} == {
        (name, page)
        for name in ("open, high", "open", "done, low", "all")
        for page in ("first", "next")
    }
    for plan in plans:
        assert plan["sql"].startswith('SELECT "todos"."id"')
        assert 'ORDER BY "todos"."created_at" DESC, "todos"."id" DESC' in plan["sql"]
        assert plan["plan"].startswith("Limit")
        assert plan["execution_ms"] >= 0
    next_page = next(p for p in plans if p["list"] == "all" and p["page"] == "next")
    assert '"todos"."created_at" <' in next_page["sql"]
