"""Time the todo list page for a user with many todos: the first page, a page 90,000 todos
deep reached by its cursor, and (for comparison) the same deep page fetched with OFFSET.

    .venv/bin/python manage.py createsuperuser --username heavy   # or any user
    .venv/bin/python manage.py seed_todos --todos 100000 --owner heavy
    .venv/bin/python -m bench.list_pages --user heavy [--rounds 7]
"""

import argparse
import base64
import os
import statistics
import time
from urllib.parse import quote

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from todos.models import Todo  # noqa: E402

DEPTH = 90_000


def cursor_at(todo):
    """The "Older" link's cursor that starts just after this todo (todos/api/pagination.py)."""
    token = f"n|{todo.created_at.isoformat()}|{todo.pk}"
    return quote(base64.urlsafe_b64encode(token.encode()).decode())


def timed(fn, rounds):
    fn()  # warm up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.list_pages", description=__doc__)
    parser.add_argument("--user", default="heavy")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    setup_test_environment()
    user = User.objects.get(username=args.user)
    client = Client()
    client.force_login(user)
    todos = Todo.objects.for_owner(user).newest_first()
    total = todos.count()
    deep = todos[DEPTH : DEPTH + 1].get()

    def first_page():
        assert client.get("/").status_code == 200

    def deep_page():
        response = client.get(f"/?cursor={cursor_at(deep)}")
        assert response.status_code == 200, response.status_code
        assert len(response.context["todos"]) == 20

    def deep_page_by_offset():
        assert len(list(todos[DEPTH : DEPTH + 20])) == 20

    first = timed(first_page, args.rounds)
    by_cursor = timed(deep_page, args.rounds)
    by_offset = timed(deep_page_by_offset, args.rounds)
    print(f"{args.user}: {total} todos; median of {args.rounds}")
    print(f"  first page (whole request)          {first:7.1f} ms")
    print(f"  page {DEPTH} deep by cursor (request) {by_cursor:7.1f} ms")
    print(f"  same rows by OFFSET (query only)    {by_offset:7.1f} ms")
    print(
        f"  deep/first = {by_cursor / first:.2f}x; offset query / cursor request = "
        f"{by_offset / by_cursor:.1f}x"
    )


if __name__ == "__main__":
    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain_static}):
        main()
