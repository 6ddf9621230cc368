"""GET /api/sync: every write, however made, shows in the next sync; pages of at most 1000
objects; bad tokens are 400; tokens from before a purge are 410, but a full sync under way
finishes. The concurrency promise: test_sync_promise.py."""

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from todos import selectors, services, sync
from todos.models import SyncTombstone, Todo
from todos.tests.sync_tools import Copy, api_fetch, server_state

# A sync token names a snapshot, which sees only what other transactions committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def copy(alice_api):
    """alice's client, after its first (full) sync."""
    return Copy(api_fetch(alice_api)).sync()


def next_page(copy):
    page = copy.fetch(copy.token)
    assert not page["more"]
    return page


def by_id(objects):
    return {each["id"]: each for each in objects}


def get(api, path):
    response = api.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def post(api, path, body):
    response = api.post(path, body, format="json")
    assert response.status_code in (200, 201, 204), response.content
    return response.json() if response.content else None


def patch(api, path, body):
    response = api.patch(path, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def inbox(api):
    return next(each for each in get(api, "/api/lists") if each["is_inbox"])


def test_a_full_sync_has_every_list_and_todo_and_no_deletes(alice, alice_api):
    work = services.create_list(owner=alice, name="Work")
    todos = [services.create_todo(owner=alice, title=f"t{n}", list_id=work.pk) for n in range(3)]
    services.delete_todo(owner=alice, pk=todos[0].pk)

    page = alice_api.get("/api/sync").json()

    assert page["more"] is False
    assert by_id(page["lists"]) == by_id(get(alice_api, "/api/lists"))
    assert by_id(page["todos"]) == {t.pk: get(alice_api, f"/api/todo/{t.pk}") for t in todos[1:]}
    assert page["deleted_lists"] == page["deleted_todos"] == []


def test_what_did_not_change_since_the_token_is_not_sent_again(alice, alice_api, copy):
    old = services.create_todo(owner=alice, title="old")
    copy.sync()
    new = services.create_todo(owner=alice, title="new")

    page = next_page(copy)

    assert by_id(page["todos"]) == {new.pk: get(alice_api, f"/api/todo/{new.pk}")}
    assert old.pk not in by_id(page["todos"])


def test_a_current_token_syncs_what_changes_after_it(alice, alice_api):
    services.create_todo(owner=alice, title="old")
    token = sync.current_token()
    new = services.create_todo(owner=alice, title="new")

    page = alice_api.get("/api/sync", {"token": token}).json()

    assert [t["id"] for t in page["todos"]] == [new.pk]


def test_a_transaction_still_open_when_a_token_is_made_is_in_the_sync_after_its_commit(
    alice, alice_api, copy
):
    todo = services.create_todo(owner=alice, title="before")
    copy.sync()
    writing, synced = threading.Event(), threading.Event()

    def write_slowly():
        try:
            with transaction.atomic():
                services.update_todo(owner=alice, pk=todo.pk, title="after")
                writing.set()
                assert synced.wait(timeout=60)
        finally:
            connection.close()

    writer = threading.Thread(target=write_slowly)
    writer.start()
    assert writing.wait(timeout=60)
    services.create_todo(owner=alice, title="later, committed first")
    during = next_page(copy)
    copy.sync()
    synced.set()
    writer.join()

    assert [t["title"] for t in during["todos"]] == ["later, committed first"]
    assert [t["title"] for t in next_page(copy)["todos"]] == ["after"]


def test_a_created_todo_and_its_list_s_open_count_are_in_the_next_sync(alice_api, copy):
    created = post(alice_api, "/api/todo", {"title": "Buy milk"})

    page = next_page(copy)

    assert by_id(page["todos"]) == {created["id"]: created}
    assert by_id(page["lists"])[created["list"]]["open_count"] == 1


def test_a_bulk_create_is_in_the_next_sync(alice_api, copy):
    created = post(alice_api, "/api/todo/bulk", [{"title": f"t{n}"} for n in range(3)])

    assert by_id(next_page(copy)["todos"]) == by_id(created)


def test_a_patch_is_in_the_next_sync(alice, alice_api):
    todo = post(alice_api, "/api/todo", {"title": "Buy milk"})
    copy = Copy(api_fetch(alice_api)).sync()

    changed = patch(alice_api, f"/api/todo/{todo['id']}", {"title": "Buy oat milk"})

    assert by_id(next_page(copy)["todos"]) == {todo["id"]: changed}


def test_a_bulk_patch_is_in_the_next_sync(alice_api):
    todos = post(alice_api, "/api/todo/bulk", [{"title": f"t{n}"} for n in range(3)])
    copy = Copy(api_fetch(alice_api)).sync()

    changed = patch(
        alice_api, "/api/todo/bulk", [{"id": t["id"], "completed": True} for t in todos]
    )

    page = next_page(copy)
    assert by_id(page["todos"]) == by_id(changed)
    assert by_id(page["lists"])[todos[0]["list"]]["open_count"] == 0


def test_a_bulk_delete_is_in_the_next_sync(alice_api):
    todos = post(alice_api, "/api/todo/bulk", [{"title": f"t{n}"} for n in range(3)])
    copy = Copy(api_fetch(alice_api)).sync()

    post(alice_api, "/api/todo/bulk/delete", {"ids": [t["id"] for t in todos[:2]]})

    page = next_page(copy)
    assert sorted(page["deleted_todos"]) == sorted(t["id"] for t in todos[:2])
    assert page["todos"] == []
    assert by_id(page["lists"])[todos[0]["list"]]["open_count"] == 1


def test_a_delete_and_its_subtasks_are_in_the_next_sync(alice_api):
    parent = post(alice_api, "/api/todo", {"title": "parent"})
    child = post(alice_api, "/api/todo", {"title": "child", "parent": parent["id"]})
    copy = Copy(api_fetch(alice_api)).sync()

    assert alice_api.delete(f"/api/todo/{parent['id']}").status_code == 204

    page = next_page(copy)
    assert sorted(page["deleted_todos"]) == sorted([parent["id"], child["id"]])
    assert by_id(page["lists"])[parent["list"]]["open_count"] == 0


def test_a_move_to_another_list_is_in_the_next_sync_with_both_lists(alice_api):
    work = post(alice_api, "/api/lists", {"name": "Work"})
    todo = post(alice_api, "/api/todo", {"title": "Write report"})
    copy = Copy(api_fetch(alice_api)).sync()

    moved = post(alice_api, f"/api/todo/{todo['id']}/move", {"list": work["id"]})

    page = next_page(copy)
    assert by_id(page["todos"]) == {todo["id"]: moved}
    lists = by_id(page["lists"])
    assert (lists[todo["list"]]["open_count"], lists[work["id"]]["open_count"]) == (0, 1)


def test_list_creates_renames_and_deletes_are_in_the_next_sync(alice_api, copy):
    work = post(alice_api, "/api/lists", {"name": "Work"})
    assert by_id(next_page(copy)["lists"]) == {work["id"]: work}
    copy.sync()

    renamed = patch(alice_api, f"/api/lists/{work['id']}", {"name": "Office"})
    assert by_id(next_page(copy)["lists"]) == {work["id"]: renamed}
    todo = post(alice_api, "/api/todo", {"title": "in it", "list": work["id"]})
    copy.sync()

    assert alice_api.delete(f"/api/lists/{work['id']}").status_code == 204
    page = next_page(copy)
    assert (page["deleted_lists"], page["deleted_todos"], page["lists"]) == (
        [work["id"]],
        [todo["id"]],
        [],
    )


def test_a_page_form_write_is_in_the_next_sync(alice, alice_api, copy):
    todo = services.create_todo(owner=alice, title="Water plants")
    copy.sync()
    browser = Client()
    browser.force_login(alice)

    browser.post(todo.get_absolute_url(), {"title": "Water all plants", "priority": "low"})

    page = next_page(copy)
    assert by_id(page["todos"]) == {todo.pk: get(alice_api, f"/api/todo/{todo.pk}")}
    assert page["todos"][0]["title"] == "Water all plants"


def test_an_admin_write_is_in_the_next_sync(alice, alice_api, staff, copy):
    todos = [services.create_todo(owner=alice, title=f"t{n}") for n in range(2)]
    copy.sync()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="todos"))
    admin = Client()
    admin.force_login(staff)

    admin.post(
        "/admin/todos/todo/",
        {"action": "mark_completed", "_selected_action": [t.pk for t in todos]},
    )

    page = next_page(copy)
    assert {pk: t["completed"] for pk, t in by_id(page["todos"]).items()} == {
        t.pk: True for t in todos
    }


def test_a_raw_sql_write_is_in_the_next_sync(alice, alice_api, copy):
    todo = services.create_todo(owner=alice, title="before")
    copy.sync()

    with connection.cursor() as cursor:
        cursor.execute("UPDATE todos SET title = 'after' WHERE id = %s", [todo.pk])

    assert next_page(copy)["todos"][0]["title"] == "after"


def test_a_delete_undone_before_the_next_sync_leaves_the_todo(alice, alice_api, copy):
    todo = services.create_todo(owner=alice, title="oops")
    copy.sync()
    rows = selectors.rows_of_todo_and_subtasks(alice, todo.pk)
    services.delete_todo(owner=alice, pk=todo.pk)
    services.restore_todos(owner=alice, rows=rows)

    page = next_page(copy)

    assert page["deleted_todos"] == []
    assert by_id(page["todos"]) == {todo.pk: get(alice_api, f"/api/todo/{todo.pk}")}


def test_2500_changes_come_in_pages_of_1000(alice, alice_api):
    for start in (0, 1000, 2000):
        count = min(1000, 2500 - start)
        post(alice_api, "/api/todo/bulk", [{"title": f"t{start + n}"} for n in range(count)])
    copy = Copy(api_fetch(alice_api)).sync()  # full: 1 list and 2,500 todos
    sizes = [(len(p["lists"]) + len(p["todos"]), p["more"]) for p in copy.pages]
    assert sizes == [(1000, True), (1000, True), (501, False)]
    assert (copy.lists, copy.todos) == server_state(alice)

    ids = list(copy.todos)
    for start in (0, 1000, 2000):
        patch(
            alice_api,
            "/api/todo/bulk",
            [{"id": pk, "completed": True} for pk in ids[start:][:1000]],
        )
    copy.pages.clear()
    copy.sync()
    assert [p["more"] for p in copy.pages] == [True, True, False]
    assert (copy.lists, copy.todos) == server_state(alice)

    for start in (0, 1000, 2000):
        post(alice_api, "/api/todo/bulk/delete", {"ids": ids[start:][:1000]})
    copy.pages.clear()
    copy.sync()
    assert [len(p["deleted_todos"]) for p in copy.pages] == [999, 1000, 501]
    assert (copy.lists, copy.todos) == server_state(alice) == (copy.lists, {})


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "-1",
        "5",
        "1e3",
        "12345678901234567890.1",
        "1.5.9",
        "1.5.3.2",
        "1.5.2.2",
        "~1.5~3.0.0",
        "~1.5~2.0.0",
        "9.9~1.5~1.0.0",
        "1.5~1.5",
    ],
)
def test_a_token_this_server_did_not_make_is_400(alice_api, token):
    response = alice_api.get("/api/sync", {"token": token})

    assert response.status_code == 400
    assert list(response.json()) == ["token"]


def test_an_empty_token_or_two_are_400(alice_api, copy):
    assert alice_api.get("/api/sync?token=").status_code == 400
    response = alice_api.get(f"/api/sync?token={copy.token}&token={copy.token}")
    assert (response.status_code, list(response.json())) == (400, ["token"])


def wait_until_tokens_pass_the_tombstones():
    """Until a snapshot taken now has every tombstone's transaction below its xmin (another
    session's transaction, open since before a delete, holds it back)."""
    newest = SyncTombstone.objects.order_by("-xid").values_list("xid", flat=True).first()
    deadline = time.monotonic() + 120
    while int(sync.current_token().split(".")[0]) <= newest:
        assert time.monotonic() < deadline, "a transaction of another session stayed open"


def purge_a_month_later():
    with time_machine.travel(timezone.now() + dt.timedelta(days=31), tick=False):
        call_command("purge_sync_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_token_from_before_a_purged_delete_is_410_and_a_full_sync_starts_again(
    alice, alice_api, copy
):
    todo = services.create_todo(owner=alice, title="gone soon")
    copy.sync()
    before = copy.token
    services.delete_todo(owner=alice, pk=todo.pk)
    wait_until_tokens_pass_the_tombstones()
    fresh = Copy(api_fetch(alice_api)).sync()

    purge_a_month_later()

    assert not SyncTombstone.objects.exists()
    response = alice_api.get("/api/sync", {"token": before})
    assert response.status_code == 410
    assert "full sync" in response.json()["detail"]
    fresh.sync()  # a token from after the purged delete still works
    assert (Copy(api_fetch(alice_api)).sync().todos, fresh.todos) == ({}, {})


def test_the_purge_keeps_the_tombstones_of_the_last_30_days(alice, alice_api, copy):
    todo = services.create_todo(owner=alice, title="gone")
    copy.sync()
    services.delete_todo(owner=alice, pk=todo.pk)

    with time_machine.travel(timezone.now() + dt.timedelta(days=29), tick=False):
        call_command("purge_sync_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert next_page(copy)["deleted_todos"] == [todo.pk]


def test_a_full_sync_under_way_finishes_across_a_purge(alice, alice_api):
    Todo.objects.bulk_create(Todo(owner=alice, title=f"t{n}") for n in range(1500))
    services.delete_todos(todos=Todo.objects.filter(owner=alice, title__in=["t1", "t2"]))
    wait_until_tokens_pass_the_tombstones()
    first = alice_api.get("/api/sync").json()
    assert first["more"]

    purge_a_month_later()

    second = alice_api.get("/api/sync", {"token": first["token"]})
    assert second.status_code == 200
    assert second.json()["more"] is False
    ids = {t["id"] for t in first["todos"] + second.json()["todos"]}
    assert ids == set(Todo.objects.values_list("pk", flat=True))
    # The deletes it purged came before the full sync: its token goes on working.
    assert alice_api.get("/api/sync", {"token": second.json()["token"]}).status_code == 200


def test_an_incremental_sync_that_lost_deletes_to_a_purge_between_its_pages_is_410(
    alice, alice_api, copy
):
    Todo.objects.bulk_create(Todo(owner=alice, title=f"t{n}") for n in range(1500))
    services.delete_todos(todos=Todo.objects.filter(owner=alice, title="t1"))
    first = copy.fetch(copy.token)
    assert first["more"]

    purge_a_month_later()

    assert alice_api.get("/api/sync", {"token": first["token"]}).status_code == 410


def test_another_user_s_changes_are_not_in_your_sync(alice_api, bob, copy):
    todo = services.create_todo(owner=bob, title="bob's")
    services.delete_todo(owner=bob, pk=services.create_todo(owner=bob, title="gone").pk)
    services.update_todo(owner=bob, pk=todo.pk, title="still bob's")

    page = next_page(copy)

    assert (page["lists"], page["todos"], page["deleted_todos"]) == ([], [], [])


def test_it_needs_credentials(anon_api):
    assert anon_api.get("/api/sync").status_code == 401
