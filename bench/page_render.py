"""Time a list page's render at 1,000 todos in two checkouts of the project, interleaved in one
run so both see the same machine load: "before" (another worktree, e.g. main at the branch
point) and "after" (this one). Each round runs one process per checkout that renders each page
through Django's test client (the whole request: middleware, queries, templates) and reports
the median; the ratios are of the medians over the rounds.

    git worktree add /tmp/before <commit>
    .venv/bin/python -m bench.page_render --before /tmp/before [--rounds 5] [--requests 40]

Both use this checkout's virtualenv and $DATABASE_URL (migrated by this checkout: a table the
older code does not know is harmless to it).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
USER = "render-bench"
# Page -> its address in each checkout: the Inbox in manual order, and all todos newest first.
PAGES = {
    "Inbox, manual order": {"before": "/lists/{inbox}/", "after": "/"},
    "All todos, newest first": {"before": "/", "after": "/todos/"},
}

MEASURE = """
import json, os, statistics, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
import django
django.setup()
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import setup_test_environment
from todos.models import TodoList
setup_test_environment()
settings.ALLOWED_HOSTS = ["testserver"]
user = User.objects.get(username=sys.argv[1])
inbox = TodoList.objects.get(owner=user, is_inbox=True).pk
client = Client()
client.force_login(user)
out = {}
for name, path in json.loads(sys.argv[2]).items():
    path = path.format(inbox=inbox)
    for _ in range(5):
        assert client.get(path).status_code == 200
    samples = []
    for _ in range(int(sys.argv[3])):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    out[name] = statistics.median(samples)
print(json.dumps(out))
"""


def seed():
    """The bench user with 1,000 todos in the Inbox: 800 open top-level todos (a third with a due
    date, some overdue), 50 of them with 2 subtasks, and 100 done."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
    import django

    django.setup()
    import datetime as dt

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone

    from todos.models import Todo

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(username=USER)
    if Todo.objects.filter(owner=user).count() == 1000:
        return
    Todo.objects.filter(owner=user).delete()
    today = timezone.localdate()
    top = Todo.objects.bulk_create(
        Todo(
            owner=user,
            title=f"Errand number {n}",
            due_date=today + dt.timedelta(days=n % 30 - 5) if n % 3 == 0 else None,
            priority=n % 3 + 1,
        )
        for n in range(800)
    )
    Todo.objects.bulk_create(
        Todo(owner=user, title=f"Step {k} of {parent.title}", parent=parent, list_id=parent.list_id)
        for parent in top[:50]
        for k in (1, 2)
    )
    Todo.objects.bulk_create(
        Todo(owner=user, title=f"Done {n}", completed=True, completed_at=timezone.now())
        for n in range(100)
    )


def collect_static(tree):
    """The pages name their static files through the manifest (DEBUG off, as served)."""
    if (tree / "staticfiles" / "staticfiles.json").exists() and os.environ.get("KEEP_STATIC"):
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
    )


def measure(tree, side, requests):
    paths = json.dumps({name: where[side] for name, where in PAGES.items()})
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, USER, paths, str(requests)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "METRICS_ENABLED": "0", "LOG_FORMAT": "text"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.page_render", description=__doc__)
    parser.add_argument("--before", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    seed()
    for tree in (args.before, HERE):
        collect_static(tree)
    runs = {"before": [], "after": []}
    for round_ in range(args.rounds):
        sides = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
        for side in sides:
            tree = args.before if side == "before" else HERE
            runs[side].append(measure(tree, side, args.requests))
    print(f"1,000 todos; median of {args.requests} requests per round, {args.rounds} rounds")
    for name in PAGES:
        before = [run[name] for run in runs["before"]]
        after = [run[name] for run in runs["after"]]
        ratios = [a / b for a, b in zip(after, before, strict=True)]
        print(
            f"  {name:25} before {statistics.median(before):6.1f} ms  "
            f"after {statistics.median(after):6.1f} ms  "
            f"after/before {statistics.median(after) / statistics.median(before):.2f}x "
            f"(per round {min(ratios):.2f}-{max(ratios):.2f}x)"
        )


if __name__ == "__main__":
    main()
