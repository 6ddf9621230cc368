"""EXPLAIN (ANALYZE, BUFFERS) of a search's two statements (todos.selectors.search_statements)
and of the plain list's first page, for one user, as JSON: the plans and timings of
docs/search.md. Also the plain one-statement search the planner would choose by itself, to show
what the probe and the fence are for.

    .venv/bin/python -m bench.explain_search --username loadtest-bigtable [--words todo,777777]
"""

import argparse
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402

from bench.explain_list_queries import explain, list_query  # noqa: E402
from todos import selectors  # noqa: E402
from todos.api.pagination import TodoCursorPagination  # noqa: E402
from todos.api.serializers import TodoFilterSerializer  # noqa: E402
from todos.models import Todo  # noqa: E402


def search_sql(user, query):
    request = Request(APIRequestFactory().get(f"/api/todo?{query}", HTTP_HOST="127.0.0.1"))
    filters = TodoFilterSerializer.from_query(request.query_params)
    paginator = TodoCursorPagination(request, filters["order"])
    statements = selectors.search_statements(owner=user, filters=filters, paginator=paginator)
    plain = paginator.page_queryset(
        Todo.objects.for_owner(user).matching(selectors.search_query(filters["q"])), None
    )
    with connection.cursor() as cursor:
        probe, search = (cursor.mogrify(s.sql, s.params) for s in statements)
        naive = cursor.mogrify(*plain.query.sql_with_params())
    return probe, search, naive


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.explain_search")
    parser.add_argument("--username", required=True)
    parser.add_argument("--words", default="todo,777777", help="comma-separated searches")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    user = User.objects.get(username=args.username)
    results = [{"what": "plain list, first page", **explain(list_query(user, "")[0], args.repeat)}]
    for words in args.words.split(","):
        probe, search, naive = search_sql(user, f"q={words}")
        results += [
            {"what": f"q={words}: the probe", **explain(probe, args.repeat)},
            {
                "what": f"q={words}: the search (run when the probe is short)",
                **explain(search, args.repeat),
            },
            {"what": f"q={words}: one plain statement (not used)", **explain(naive, 1)},
        ]
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
