"""EXPLAIN (ANALYZE, BUFFERS) of the API's own list queries for one user, as JSON: what
docs/benchmarks.md's index plans and `bin/bench --claims` come from.

    .venv/bin/python -m bench.explain_list_queries --username loadtest-bigtable [--repeat 3]

The queries are the ones GET /api/todo runs (todos.selectors.list_statement): the filters of
TodoFilterSerializer on Todo.objects.for_owner(), paginated by TodoCursorPagination; the first
page and the page its `next` cursor points to. Each is run once to warm the cache, then explained
--repeat times; the median execution time and the last plan are kept.
"""

import argparse
import json
import os
import statistics

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402

from todos import executor  # noqa: E402
from todos.api.pagination import TodoCursorPagination  # noqa: E402
from todos.api.serializers import TodoFilterSerializer  # noqa: E402
from todos.selectors import list_statement  # noqa: E402

# The bigtable scenario's lists (locustfile.py BIGTABLE_PAGES).
LISTS = [
    ("open, high", "completed=false&priority=high&page_size=20"),
    ("open", "completed=false&page_size=20"),
    ("done, low", "completed=true&priority=low&page_size=50"),
    ("all", "page_size=20"),
]


def explain_lists(user, repeat=3):
    """The plans of every list's first and next page for this user."""
    results = []
    for name, query in LISTS:
        sql, next_query = list_query(user, query)
        results.append({"list": name, "page": "first", **explain(sql, repeat)})
        if next_query:
            sql, _ = list_query(user, next_query)
            results.append({"list": name, "page": "next", **explain(sql, repeat)})
    return results


def list_query(user, query):
    """The SQL of one API list page with its values inlined, and the query string of its next
    page (or None): the very statement the list view runs (todos.selectors.list_statement)."""
    request = Request(APIRequestFactory().get(f"/api/todo?{query}", HTTP_HOST="127.0.0.1"))
    filters = TodoFilterSerializer.from_query(request.query_params)
    paginator = TodoCursorPagination(request, filters["order"])
    statement = list_statement(owner=user, filters=filters, paginator=paginator)
    next_link = paginator.page(executor.run_sync(statement), lambda todos: todos)["next"]
    with connection.cursor() as cursor:
        sql = cursor.mogrify(statement.sql, statement.params)
    return sql, next_link.split("?", 1)[1] if next_link else None


def explain(sql, repeat):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        runs = []
        for _ in range(repeat):
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            runs.append(_json(cursor.fetchone()[0])[0])
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return {
        "sql": sql,
        "execution_ms": round(statistics.median(r["Execution Time"] for r in runs), 3),
        "planning_ms": round(statistics.median(r["Planning Time"] for r in runs), 3),
        "indexes": sorted(_indexes(runs[-1]["Plan"])),
        "plan": plan,
    }


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _indexes(node):
    found = {node["Index Name"]} if "Index Name" in node else set()
    for child in node.get("Plans", []):
        found |= _indexes(child)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.explain_list_queries")
    parser.add_argument("--username", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    user = User.objects.get(username=args.username)
    print(json.dumps(explain_lists(user, args.repeat), indent=1))


if __name__ == "__main__":
    main()
