"""PATCH /api/todo/bulk and POST /api/todo/bulk/delete: many todos changed or deleted in one
statement, all or nothing."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import django_transport_only
from todos import services
from todos.models import Todo, TodoList

pytestmark = pytest.mark.django_db


def todos_of(owner, count, **fields):
    return [services.create_todo(owner=owner, title=f"todo {i}", **fields) for i in range(count)]


def edit(client, items):
    return client.patch("/api/todo/bulk", json.dumps(items), content_type="application/json")


def delete(client, body):
    return client.post("/api/todo/bulk/delete", json.dumps(body), content_type="application/json")


def statements_on_todos(queries):
    return [q["sql"] for q in queries if '"todos"' in q["sql"] or " todos " in q["sql"]]


def test_each_item_changes_only_the_fields_it_gives_and_comes_back_in_input_order(alice, alice_api):
    first, second, third = todos_of(alice, 3)
    response = edit(
        alice_api,
        [
            {"id": third.pk, "title": "  third, renamed  ", "priority": "high"},
            {"id": first.pk, "due_date": "2027-03-01", "description": "now with words"},
            {"id": second.pk, "completed": True},
        ],
    )

    assert response.status_code == 200
    body = response.json()
    assert [todo["id"] for todo in body] == [third.pk, first.pk, second.pk]
    assert body[0]["title"] == "third, renamed"
    assert body[0]["priority"] == "high"
    assert body[1]["due_date"] == "2027-03-01"
    assert body[1]["title"] == "todo 0"
    assert body[2]["completed"]
    assert body[2]["completed_at"]
    assert body[2]["title"] == "todo 1"
    second.refresh_from_db()
    assert second.completed
    assert second.completed_at is not None
    first.refresh_from_db()
    assert (first.description, first.priority, first.completed) == ("now with words", 2, False)


def test_a_due_date_can_be_cleared_and_a_todo_reopened(alice, alice_api):
    [todo] = todos_of(alice, 1, due_date="2027-01-01", completed=True)
    response = edit(alice_api, [{"id": todo.pk, "due_date": None, "completed": False}])

    assert response.status_code == 200
    [body] = response.json()
    assert body["due_date"] is None
    assert body["completed"] is False
    assert body["completed_at"] is None


def test_completing_a_parent_completes_its_open_subtasks(alice, alice_api):
    parent = services.create_todo(owner=alice, title="parent")
    subtasks = [
        services.create_todo(owner=alice, title=f"sub {i}", parent_id=parent.pk) for i in range(2)
    ]
    other = services.create_todo(owner=alice, title="unrelated")
    response = edit(alice_api, [{"id": parent.pk, "completed": True}])

    assert response.status_code == 200
    assert [todo["id"] for todo in response.json()] == [parent.pk]
    assert all(Todo.objects.get(pk=s.pk).completed for s in subtasks)
    assert Todo.objects.get(pk=subtasks[0].pk).title == "sub 0"
    assert not Todo.objects.get(pk=other.pk).completed


def test_a_subtask_in_the_same_batch_keeps_what_its_own_item_says(alice, alice_api):
    parent = services.create_todo(owner=alice, title="parent")
    subtask = services.create_todo(owner=alice, title="sub", parent_id=parent.pk)
    response = edit(
        alice_api,
        [{"id": parent.pk, "completed": True}, {"id": subtask.pk, "title": "sub, renamed"}],
    )

    assert response.status_code == 200
    subtask.refresh_from_db()
    assert subtask.title == "sub, renamed"
    assert not subtask.completed  # its own item gives no completed: it is kept


@django_transport_only
def test_200_items_are_changed_by_one_update_statement(alice, alice_api):
    todos = todos_of(alice, 200)
    items = [
        {"id": todo.pk, "completed": True, "title": f"done {i}"} for i, todo in enumerate(todos)
    ]
    with CaptureQueriesContext(connection) as queries:
        response = edit(alice_api, items)

    assert response.status_code == 200
    assert len(statements_on_todos(queries)) == 1
    assert statements_on_todos(queries)[0].lstrip().startswith("WITH given AS")
    assert Todo.objects.filter(owner=alice, completed=True).count() == 200


@django_transport_only
def test_200_ids_are_deleted_by_one_delete_statement(alice, alice_api):
    todos = todos_of(alice, 200)
    with CaptureQueriesContext(connection) as queries:
        response = delete(alice_api, {"ids": [todo.pk for todo in todos]})

    assert response.status_code == 204
    assert [sql.split()[0] for sql in statements_on_todos(queries)] == ["DELETE"]
    assert not Todo.objects.filter(owner=alice).exists()


def test_another_users_id_fails_the_whole_batch_naming_its_position(alice, bob, alice_api):
    mine = todos_of(alice, 2)
    [theirs] = todos_of(bob, 1)
    response = edit(
        alice_api,
        [
            {"id": mine[0].pk, "title": "changed"},
            {"id": theirs.pk, "title": "stolen"},
            {"id": mine[1].pk, "completed": True},
        ],
    )

    assert response.status_code == 400
    assert response.json() == {"1": {"id": ["No todo with this id."]}}
    assert sorted(Todo.objects.values_list("title", flat=True)) == ["todo 0", "todo 0", "todo 1"]
    assert not Todo.objects.filter(completed=True).exists()


def test_a_missing_id_fails_the_batch_and_nothing_is_written(alice, alice_api):
    [todo] = todos_of(alice, 1)
    response = edit(alice_api, [{"id": todo.pk, "title": "changed"}, {"id": 999_999_999}])

    assert response.status_code == 400
    assert response.json() == {"1": {"id": ["No todo with this id."]}}
    todo.refresh_from_db()
    assert todo.title == "todo 0"


def test_a_repeated_id_names_each_repeat_and_its_first_place(alice, alice_api):
    first, second = todos_of(alice, 2)
    items = [{"id": first.pk}, {"id": second.pk}, {"id": first.pk, "title": "again"}]
    response = edit(alice_api, items)

    assert response.status_code == 400
    assert response.json() == {"2": {"id": ["This todo is in the batch already (item 0)."]}}
    assert Todo.objects.filter(title="again").count() == 0


@pytest.mark.parametrize(
    ("item", "errors"),
    [
        ({"title": "no id"}, {"id": ["This field is required."]}),
        ({"id": "seven"}, {"id": ["A valid integer is required."]}),
        ({"id": 0}, {"id": ["Ensure this value is greater than or equal to 1."]}),
        (
            {"id": 2**63},
            {"id": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
        ({"id": 1, "title": ""}, {"title": ["This field may not be blank."]}),
        ({"id": 1, "colour": "red"}, {"colour": ["Unknown field."]}),
    ],
)
def test_a_malformed_item_fails_the_batch_naming_it(alice, alice_api, item, errors):
    [todo] = todos_of(alice, 1)
    response = edit(alice_api, [{"id": todo.pk, "title": "changed"}, item])

    assert response.status_code == 400
    assert response.json() == {"1": errors}
    todo.refresh_from_db()
    assert todo.title == "todo 0"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "This list may not be empty."),
        ([{"id": 1}] * 1001, "Ensure this field has no more than 1000 elements."),
        ({"id": 1}, 'Expected a list of items but got type "dict".'),
    ],
)
def test_a_body_that_is_not_a_list_of_1_to_1000_is_400(alice_api, body, message):
    response = edit(alice_api, body)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [message]}


def test_a_todo_sent_back_as_read_is_accepted_but_a_changed_list_points_to_move(alice, alice_api):
    work = TodoList.objects.create(owner=alice, name="Work")
    first, second = todos_of(alice, 2)
    as_read = alice_api.get(f"/api/todo/{first.pk}").json()
    response = edit(
        alice_api, [{**as_read, "title": "sent back"}, {"id": second.pk, "list": work.pk}]
    )

    assert response.status_code == 400
    assert response.json() == {
        "1": {"list": ["Set on create; change it with POST /api/todo/<id>/move."]}
    }
    assert not Todo.objects.filter(title="sent back").exists()

    response = edit(alice_api, [{**as_read, "title": "sent back"}])
    assert response.status_code == 200
    assert response.json()[0]["title"] == "sent back"


def test_1000_items_are_accepted(alice, alice_api):
    todos = Todo.objects.bulk_create(Todo(owner=alice, title=f"t{i}") for i in range(1000))
    response = edit(alice_api, [{"id": todo.pk, "priority": "low"} for todo in todos])

    assert response.status_code == 200
    assert Todo.objects.filter(owner=alice, priority=1).count() == 1000


def test_a_batch_delete_takes_the_subtasks_with_their_parent(alice, alice_api):
    parent = services.create_todo(owner=alice, title="parent")
    services.create_todo(owner=alice, title="sub", parent_id=parent.pk)
    kept = services.create_todo(owner=alice, title="kept")
    response = delete(alice_api, {"ids": [parent.pk]})

    assert response.status_code == 204
    assert list(Todo.objects.values_list("title", flat=True)) == ["kept"]
    assert kept.pk


def test_a_parent_and_its_subtask_can_be_deleted_in_one_batch(alice, alice_api):
    parent = services.create_todo(owner=alice, title="parent")
    subtask = services.create_todo(owner=alice, title="sub", parent_id=parent.pk)
    response = delete(alice_api, {"ids": [subtask.pk, parent.pk]})

    assert response.status_code == 204
    assert not Todo.objects.exists()


def test_a_batch_delete_with_a_foreign_id_deletes_nothing(alice, bob, alice_api):
    mine = todos_of(alice, 2)
    [theirs] = todos_of(bob, 1)
    response = delete(alice_api, {"ids": [mine[0].pk, mine[1].pk, theirs.pk]})

    assert response.status_code == 400
    assert response.json() == {"ids": {"2": ["No todo with this id."]}}
    assert Todo.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"ids": []}, {"ids": ["This list may not be empty."]}),
        ({"ids": [1] * 1001}, {"ids": ["Ensure this field has no more than 1000 elements."]}),
        ({"ids": [1, "x"]}, {"ids": {"1": ["A valid integer is required."]}}),
        ({"ids": [5, 6, 5]}, {"ids": {"2": ["This todo is in the batch already (item 0)."]}}),
        ({}, {"ids": ["This field is required."]}),
        ({"ids": [1], "all": True}, {"all": ["Unknown field."]}),
        ([1, 2], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_a_malformed_batch_delete_is_400_and_deletes_nothing(alice, alice_api, body, errors):
    todos_of(alice, 1)
    response = delete(alice_api, body)

    assert response.status_code == 400
    assert response.json() == errors
    assert Todo.objects.count() == 1


def test_batch_edits_count_as_one_write_each_against_the_throttle(alice, alice_api, settings):
    settings.THROTTLE_WRITES = "2/hour"
    [todo] = todos_of(alice, 1)
    assert edit(alice_api, [{"id": todo.pk, "title": "a"}]).status_code == 200
    assert delete(alice_api, {"ids": [todo.pk]}).status_code == 204
    response = edit(alice_api, [{"id": todo.pk, "title": "b"}])
    assert response.status_code == 429
    assert response.has_header("Retry-After")


def test_an_idempotent_retry_of_a_batch_edit_replays_it(alice, alice_api):
    first, second = todos_of(alice, 2)
    items = [{"id": first.pk, "title": "once"}, {"id": second.pk, "completed": True}]
    headers = {"HTTP_IDEMPOTENCY_KEY": "edit-1"}
    body = json.dumps(items)
    answer = alice_api.patch("/api/todo/bulk", body, content_type="application/json", **headers)
    Todo.objects.filter(pk=first.pk).update(title="changed since")
    retry = alice_api.patch("/api/todo/bulk", body, content_type="application/json", **headers)

    assert answer.status_code == retry.status_code == 200
    assert retry.json() == answer.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Todo.objects.get(pk=first.pk).title == "changed since"  # not written again


def test_an_idempotent_retry_of_a_batch_delete_is_204_again(alice, alice_api):
    [todo] = todos_of(alice, 1)
    body, headers = json.dumps({"ids": [todo.pk]}), {"HTTP_IDEMPOTENCY_KEY": "delete-1"}
    path = "/api/todo/bulk/delete"
    first = alice_api.post(path, body, content_type="application/json", **headers)
    retry = alice_api.post(path, body, content_type="application/json", **headers)

    assert first.status_code == retry.status_code == 204
    assert retry["Idempotent-Replayed"] == "true"
