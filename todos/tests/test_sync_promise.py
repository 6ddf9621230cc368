"""The sync feed's promise: concurrent writers whose transactions commit out of order (one held
open on purpose while later ones commit, and a client syncing meanwhile), and a client that
syncs in a loop and applies every page; once the writers are done, one more pass leaves its copy
equal to the server's state, id for id and field for field. Once through the services on
threads of this process (the API read through both doors), once through real HTTP with 8
writers. Why it holds: docs/sync.md."""

import random
import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from todos import services
from todos.models import Todo
from todos.tests.live import LiveAPIClient
from todos.tests.sync_tools import Copy, api_fetch, server_state

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE_SECONDS = 120


class OrmDoor:
    """The writes through the services the API and the pages call, on this thread's connection."""

    def __init__(self, user):
        self.user = user

    def create(self, title, list_id, parent_id=None):
        services.create_todo(owner=self.user, title=title, list_id=list_id, parent_id=parent_id)

    def bulk_create(self, titles, list_id):
        Todo.objects.bulk_create(Todo(owner=self.user, title=t, list_id=list_id) for t in titles)

    def patch(self, pk, **fields):
        services.update_todo(owner=self.user, pk=pk, **fields)

    def bulk_patch(self, items):
        services.update_todos(owner=self.user, items=items)

    def delete(self, pk):
        services.delete_todo(owner=self.user, pk=pk)

    def bulk_delete(self, ids):
        services.delete_todos_by_id(owner=self.user, ids=ids)

    def move(self, pk, list_id):
        services.move_todo(owner=self.user, pk=pk, list=list_id)

    def create_list(self, name):
        return services.create_list(owner=self.user, name=name).pk

    def rename_list(self, pk, name):
        services.rename_list(owner=self.user, pk=pk, name=name)

    def delete_list(self, pk):
        services.delete_list(owner=self.user, pk=pk)

    def todos_in(self, lists):
        """(id, list, parent) of each todo in these lists, in id order."""
        return list(
            Todo.objects.filter(owner=self.user, list_id__in=lists)
            .order_by("pk")
            .values_list("pk", "list_id", "parent_id")
        )

    def together(self, title, list_id, pk):
        """Several writes in one transaction: one stamp for all of them."""
        with transaction.atomic():
            self.create(title, list_id)
            self.patch(pk, completed=True)

    def close(self):
        pass


class HttpDoor:
    """The same writes through the API over HTTP (the fast lane where it serves them)."""

    def __init__(self, url, token):
        self.api = LiveAPIClient(url)
        self.api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def _call(self, method, path, body=None):
        response = getattr(self.api, method)(path, body, format="json")
        assert response.status_code in (200, 201, 204), (method, path, response.content)
        return response.json() if response.content else None

    def create(self, title, list_id, parent_id=None):
        self._call("post", "/api/todo", {"title": title, "list": list_id, "parent": parent_id})

    def bulk_create(self, titles, list_id):
        self._call("post", "/api/todo/bulk", [{"title": t, "list": list_id} for t in titles])

    def patch(self, pk, **fields):
        self._call("patch", f"/api/todo/{pk}", fields)

    def bulk_patch(self, items):
        self._call("patch", "/api/todo/bulk", items)

    def delete(self, pk):
        self._call("delete", f"/api/todo/{pk}")

    def bulk_delete(self, ids):
        self._call("post", "/api/todo/bulk/delete", {"ids": ids})

    def move(self, pk, list_id):
        self._call("post", f"/api/todo/{pk}/move", {"list": list_id})

    def create_list(self, name):
        return self._call("post", "/api/lists", {"name": name})["id"]

    def rename_list(self, pk, name):
        self._call("patch", f"/api/lists/{pk}", {"name": name})

    def delete_list(self, pk):
        self._call("delete", f"/api/lists/{pk}")

    def todos_in(self, lists):
        found = []
        for list_id in lists:
            url = f"/api/todo?list={list_id}&page_size=100"
            while url:
                page = self.api.get(url).json()
                found += [(t["id"], t["list"], t["parent"]) for t in page["results"]]
                url = page["next"]
        return sorted(found)

    def together(self, title, list_id, pk):
        self.create(title, list_id)
        self.patch(pk, completed=True)

    def close(self):
        self.api.session.close()


class Writer(threading.Thread):
    """`ops` random writes (seeded) through `door` to its own two lists and their todos."""

    def __init__(self, n, door, ops, start_together, errors, halfway=None):
        super().__init__(daemon=True)
        self.tag, self.door, self.ops = f"w{n}", door, ops
        self.rng = random.Random(n)
        self.start_together, self.errors, self.halfway = start_together, errors, halfway

    def run(self):
        try:
            self.lists = [self.door.create_list(f"{self.tag}-{side}") for side in "ab"]
            self.start_together.wait(timeout=DEADLINE_SECONDS)
            for step in range(self.ops):
                self.step(step)
                if self.halfway is not None and step == self.ops // 2:
                    self.halfway.set()
        except BaseException as error:
            self.errors.append(error)
        finally:
            if self.halfway is not None:
                self.halfway.set()
            self.door.close()
            connection.close()

    def step(self, step):
        rng, door, title = self.rng, self.door, f"{self.tag}:{step}"
        todos = self.door.todos_in(self.lists)
        top = [t for t in todos if t[2] is None]
        op = rng.choice(
            ["create"] * 3
            + ["patch"] * 3
            + ["move"] * 2
            + ["bulk_create", "bulk_patch"]
            + ["delete", "bulk_delete", "subtask", "rename", "list_churn", "together"]
        )
        if len(todos) < 3:
            op = "bulk_create"
        pk, list_id, _ = rng.choice(todos) if todos else (None, None, None)
        if op == "create":
            door.create(title, rng.choice(self.lists))
        elif op == "bulk_create":
            door.bulk_create([f"{title}.{n}" for n in range(3)], rng.choice(self.lists))
        elif op == "patch":
            door.patch(pk, title=f"{title} (was {pk})", completed=rng.random() < 0.5)
        elif op == "bulk_patch":
            picked = rng.sample(todos, 2)
            door.bulk_patch([{"id": t[0], "completed": rng.random() < 0.5} for t in picked])
        elif op == "delete":
            door.delete(pk)
        elif op == "bulk_delete":
            door.bulk_delete([t[0] for t in rng.sample(todos, 2)])
        elif op == "move":
            door.move(pk, next(each for each in self.lists if each != list_id))
        elif op == "subtask" and top:
            parent = rng.choice(top)
            door.create(title, parent[1], parent_id=parent[0])
        elif op == "rename":
            door.rename_list(self.lists[0], f"{self.tag}-a{step}")
        elif op == "list_churn":
            churned = door.create_list(f"{self.tag}-churn{step}")
            door.create(title, churned)
            door.delete_list(churned)
        elif op == "together":
            door.together(title, rng.choice(self.lists), pk)


class HeldTransaction(threading.Thread):
    """Writes (a change to `todo` and a new todo) in a transaction that stays open until
    `release` is set; `holding` is set once they are written, `xid` is its transaction id."""

    def __init__(self, user, todo, errors):
        super().__init__(daemon=True)
        self.user, self.todo, self.errors = user, todo, errors
        self.holding, self.release = threading.Event(), threading.Event()
        self.xid = None

    def run(self):
        try:
            with transaction.atomic():
                services.update_todo(owner=self.user, pk=self.todo.pk, title="held: changed")
                services.create_todo(owner=self.user, title="held: new")
                self.xid = stamp_of_my_transaction()
                self.holding.set()
                if not self.release.wait(timeout=DEADLINE_SECONDS):
                    raise AssertionError("the held transaction was never released")
        except BaseException as error:
            self.errors.append(error)
        finally:
            self.holding.set()
            connection.close()


def stamp_of_my_transaction():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text")
        return int(cursor.fetchone()[0])


def stamp_of(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sync_xid::text FROM todos WHERE id = %s", [pk])
        return int(cursor.fetchone()[0])


def titles(copy):
    return {todo["title"] for todo in copy.todos.values()}


def run_the_promise(user, copy, writers, write_early, errors):
    """Hold a transaction open, commit a later one, sync; then let the writers go while the
    client syncs in a loop, releasing the held transaction halfway; one more pass at the end."""
    held_todo = services.create_todo(owner=user, title="held: before")
    copy.sync()
    held = HeldTransaction(user, held_todo, errors)
    held.start()
    assert held.holding.wait(timeout=DEADLINE_SECONDS)
    assert held.xid is not None, errors

    early_pk = write_early()
    # Out of order: a transaction that began after the held one has committed before it.
    assert stamp_of(early_pk) > held.xid
    copy.sync()
    assert early_pk in copy.todos
    assert "held: new" not in titles(copy)
    assert copy.todos[held_todo.pk]["title"] == "held: before"

    for writer in writers:
        writer.start()
    writers[0].start_together.wait(timeout=DEADLINE_SECONDS)
    passes, deadline = 0, time.monotonic() + DEADLINE_SECONDS
    while any(thread.is_alive() for thread in [*writers, held]):
        assert time.monotonic() < deadline, "the writers did not finish"
        copy.sync()
        passes += 1
        if writers[0].halfway.is_set():
            held.release.set()  # commits while the others write and the client syncs
    held.release.set()
    held.join()
    for writer in writers:
        writer.join()
    assert not errors, errors
    assert passes >= 2

    copy.sync()  # one pass after the last commit

    assert {"held: changed", "held: new"} <= titles(copy)
    return copy


@pytest.mark.parametrize("writers", [4])
def test_a_client_that_applies_every_page_ends_with_the_server_s_state(alice, alice_api, writers):
    errors = []
    start_together = threading.Barrier(writers + 1)
    crew = [
        Writer(n, OrmDoor(alice), 30, start_together, errors, threading.Event())
        for n in range(writers)
    ]
    copy = Copy(api_fetch(alice_api))

    run_the_promise(
        alice, copy, crew, lambda: services.create_todo(owner=alice, title="early").pk, errors
    )

    assert (copy.lists, copy.todos) == server_state(alice)
    assert len(copy.todos) > 20
    assert len(copy.lists) > writers


def state_over_http(api):
    lists = {each["id"]: each for each in api.get("/api/lists").json()}
    todos, url = {}, "/api/todo?page_size=100"
    while url:
        page = api.get(url).json()
        todos.update((each["id"], each) for each in page["results"])
        url = page["next"]
    return lists, todos


@pytest.mark.parametrize("api_transport", ["live"])
def test_the_same_through_http_with_8_concurrent_writers(alice, alice_api, live_asgi):
    errors = []
    token = Token.objects.get(user=alice).key
    start_together = threading.Barrier(8 + 1)
    crew = [Writer(n, HttpDoor(live_asgi.url, token), 25, start_together, errors) for n in range(8)]
    crew[0].halfway = threading.Event()
    copy = Copy(api_fetch(alice_api))
    early = HttpDoor(live_asgi.url, token)

    def write_early():
        response = early.api.post("/api/todo", {"title": "early"}, format="json")
        assert response.status_code == 201
        return response.json()["id"]

    run_the_promise(alice, copy, crew, write_early, errors)

    assert (copy.lists, copy.todos) == state_over_http(alice_api) == server_state(alice)
    assert len(copy.todos) > 40
