"""Time the admin's todo change list with Django's defaults ("before"), with the count fix
(estimated count, no full count), and with the count and date-hierarchy fixes ("after"),
interleaved in one run so all see the same machine load.

    .venv/bin/python manage.py seed_todos --todos 1000000     # once, into $DATABASE_URL
    .venv/bin/python -m bench.admin_changelist [--rounds 7]
    .venv/bin/python -m bench.admin_changelist --search todo,777777 [--rounds 7]

--search: the change list searched for each word, through the API's index (TodoAdmin's
get_search_results) and through Django's own (icontains over every title), beside the
unfiltered change list, interleaved in one run.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")

import django
import django.contrib.admin

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from todos.admin import AdminTodoQuerySet, EstimatedCountPaginator, TodoAdmin  # noqa: E402
from todos.models import Todo, TodoQuerySet  # noqa: E402

FAST_DATES = AdminTodoQuerySet.datetimes
VARIANTS = {
    "before": (Paginator, True, TodoQuerySet.datetimes),
    "count": (EstimatedCountPaginator, False, TodoQuerySet.datetimes),
    "after": (EstimatedCountPaginator, False, FAST_DATES),
}
PAGES = {
    "unfiltered": "/admin/todos/todo/",
    "page 50": "/admin/todos/todo/?p=50",
    "completed=no": "/admin/todos/todo/?completed__exact=0",
}


def load(client, variant, url):
    paginator, full_count, datetimes = VARIANTS[variant]
    TodoAdmin.paginator, TodoAdmin.show_full_result_count = paginator, full_count
    AdminTodoQuerySet.datetimes = datetimes
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.status_code
    counts = [q for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    return elapsed * 1000, len(queries.captured_queries), counts


def compare_search(client, rounds, words):
    """Each word searched through the index and Django's way, beside the unfiltered list."""
    ours = TodoAdmin.get_search_results
    djangos = django.contrib.admin.ModelAdmin.get_search_results
    loads = {"unfiltered": ("/admin/todos/todo/", ours)}
    for word in words:
        loads[f"q={word} (index)"] = (f"/admin/todos/todo/?q={word}", ours)
        loads[f"q={word} (Django's)"] = (f"/admin/todos/todo/?q={word}", djangos)
    times = {label: [] for label in loads}
    for _ in range(rounds + 1):  # the first round warms up
        for label, (url, search) in loads.items():
            TodoAdmin.get_search_results = search
            times[label].append(load(client, "after", url)[0])
    TodoAdmin.get_search_results = ours
    medians = {label: statistics.median(t[1:]) for label, t in times.items()}
    for label, median in medians.items():
        ratio = median / medians["unfiltered"]
        print(f"  {label:28} {median:7.0f} ms  {ratio:5.1f}x the unfiltered change list")


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.admin_changelist", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--search", help="comma-separated words: compare searches instead")
    args = parser.parse_args()
    rounds = args.rounds
    setup_test_environment()
    user, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    rows = Todo.objects.count()
    print(f"todos table: {rows} rows; {rounds} interleaved loads per variant, median shown")
    if args.search:
        compare_search(client, rounds, args.search.split(","))
        return
    for label, url in PAGES.items():
        times = {variant: [] for variant in VARIANTS}
        for variant in VARIANTS:
            load(client, variant, url)  # warm up
        for _ in range(rounds):
            for variant in VARIANTS:
                ms, queries, counts = load(client, variant, url)
                times[variant].append(ms)
        medians = {variant: statistics.median(t) for variant, t in times.items()}
        for variant in VARIANTS:
            _, queries, counts = load(client, variant, url)
            count_ms = sum(float(q["time"]) * 1000 for q in counts)
            print(
                f"  {label:13} {variant:6} {medians[variant]:7.0f} ms"
                f"  ({queries} queries, {len(counts)} COUNT(*) taking {count_ms:.0f} ms)"
            )
        print(
            f"  {label:13} before/count = {medians['before'] / medians['count']:.1f}x,"
            f" before/after = {medians['before'] / medians['after']:.1f}x"
        )


if __name__ == "__main__":
    # Hashed static names need collectstatic's manifest, which the page timing does not need.
    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain_static}):
        main()
