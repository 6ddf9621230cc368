"""EXPLAIN (ANALYZE, BUFFERS) of the statements lists, subtasks and manual order added, for one
user, as JSON: the plans and timings of docs/lists.md.

    .venv/bin/python -m bench.explain_lists --username deep [--repeat 5]

The user needs a big Inbox (`manage.py seed_todos --owner deep --todos 100000`) and a todo with
subtasks. The list pages are the very statements GET /api/todo runs (bench.explain_list_queries);
order=position's first page and the page after the middle todo of the Inbox (50,000 deep in a
100,000-todo list) are explained in the same run. Writes (completing a parent, deleting one) are
explained inside a transaction that is rolled back.
"""

import argparse
import base64
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.explain_list_queries import explain, list_query  # noqa: E402
from todos import services  # noqa: E402
from todos.models import Todo, TodoList  # noqa: E402


def cursor_after(todo):
    token = f"n|position|{todo.position}|{todo.pk}"
    return base64.urlsafe_b64encode(token.encode()).decode()


def explain_rolled_back(sql, repeat):
    """The plan of a write, each run rolled back (so that each finds the rows it writes)."""
    runs = []
    for _ in range(repeat):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            runs.append("\n".join(row[0] for row in cursor.fetchall()))
            transaction.set_rollback(True)
    times = sorted(float(run.rsplit("Execution Time: ", 1)[1].split()[0]) for run in runs)
    return {"sql": sql, "execution_ms": times[len(times) // 2], "indexes": [], "plan": runs[-1]}


def mogrify(statement):
    with connection.cursor() as cursor:
        return cursor.mogrify(statement.sql, statement.params)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.explain_lists")
    parser.add_argument("--username", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    user = User.objects.get(username=args.username)
    inbox = TodoList.objects.get(owner=user, is_inbox=True)
    top = Todo.objects.filter(list=inbox, parent__isnull=True).in_position_order()
    size = top.count()
    middle = top[size // 2 - 1]
    parent = Todo.objects.filter(owner=user, subtasks__isnull=False).first()
    manual = f"list={inbox.pk}&parent=none&order=position&page_size=20"
    pages = {
        "order=position, first page": manual,
        f"order=position, after todo {size // 2} of {size}": f"{manual}&cursor={cursor_after(middle)}",
        "list filter, newest first": f"list={inbox.pk}&page_size=20",
        "a parent's subtasks in manual order": f"list={inbox.pk}&parent={parent.pk}&order=position",
    }
    results = [
        {"what": name, **explain(list_query(user, query)[0], args.repeat)}
        for name, query in pages.items()
    ]
    siblings = Todo.objects.filter(list=inbox, parent__isnull=True).exclude(pk=middle.pk)
    following = siblings.filter(position__gt=middle.position, position__gte=middle.position)
    with connection.cursor() as cursor:
        sql = cursor.mogrify(*following.in_position_order()[:1].query.sql_with_params())
    results.append({"what": "a move: the sibling after `after`", **explain(sql, args.repeat)})
    complete = mogrify(services._update(user, parent.pk, {"completed": True}))
    results.append(
        {
            "what": "complete a parent and its open subtasks",
            **explain_rolled_back(complete, args.repeat),
        }
    )
    delete = f"DELETE FROM todos WHERE owner_id = {user.pk} AND id = {parent.pk}"
    results.append(
        {
            "what": "delete a parent (its subtasks by the FK's cascade)",
            **explain_rolled_back(delete, args.repeat),
        }
    )
    lists = TodoList.objects.filter(owner=user)
    from todos.selectors import _lists

    with connection.cursor() as cursor:
        sql = cursor.mogrify(*_lists(user).in_order().query.sql_with_params())
    results.append(
        {
            "what": f"GET /api/lists ({lists.count()} lists, open counts)",
            **explain(sql, args.repeat),
        }
    )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
