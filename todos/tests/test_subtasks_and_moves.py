"""A todo's list, parent and position: set on create (the Inbox, first, by default), changed only
by POST /api/todo/<id>/move, which writes the moved todo and its subtasks and nothing else."""

import pytest

from todos.models import Todo, TodoList
from todos.services import create_list, create_todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(alice):
    return TodoList.objects.get(owner=alice, is_inbox=True)


@pytest.fixture
def work(alice):
    return create_list(owner=alice, name="Work")


def titles_in_order(todo_list, parent=None):
    todos = Todo.objects.filter(list=todo_list, parent=parent).in_position_order()
    return [todo.title for todo in todos]


def snapshot():
    return sorted(
        Todo.objects.values_list("pk", "list_id", "parent_id", "position", "completed", "title")
    )


def test_a_todo_posted_without_a_list_goes_first_into_the_inbox(alice, alice_api, inbox):
    create_todo(owner=alice, title="older")
    response = alice_api.post("/api/todo", {"title": "Buy milk"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["list"], body["parent"]) == (inbox.pk, None)
    assert titles_in_order(inbox) == ["Buy milk", "older"]


def test_a_todo_can_be_posted_into_a_list_and_under_a_parent(alice_api, work):
    parent = alice_api.post("/api/todo", {"title": "Trip", "list": work.pk}, format="json").json()
    response = alice_api.post("/api/todo", {"title": "Pack", "parent": parent["id"]}, format="json")

    assert response.status_code == 201
    assert (response.json()["list"], response.json()["parent"]) == (work.pk, parent["id"])
    assert titles_in_order(work) == ["Trip"]
    assert titles_in_order(work, parent["id"]) == ["Pack"]


@pytest.fixture
def places(alice, bob, work):
    theirs = create_list(owner=bob, name="Theirs")
    parent = create_todo(owner=alice, title="parent")
    return {
        "work": work.pk,
        "theirs": theirs.pk,
        "their todo": create_todo(owner=bob, title="their todo").pk,
        "parent": parent.pk,
        "subtask": create_todo(owner=alice, title="subtask", parent_id=parent.pk).pk,
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"list": "theirs"}, {"list": ["No list with this id."]}),
        ({"list": 10**12}, {"list": ["No list with this id."]}),
        ({"parent": "their todo"}, {"parent": ["No todo with this id."]}),
        ({"parent": "subtask"}, {"parent": ["A subtask cannot have subtasks."]}),
        ({"parent": "parent", "list": "work"}, {"parent": ["This todo is in another list."]}),
        ({"list": "x"}, {"list": ["A valid integer is required."]}),
        ({"parent": 0}, {"parent": ["Ensure this value is greater than or equal to 1."]}),
        ({"position": "a0"}, None),  # read-only: ignored
    ],
)
def test_a_list_or_parent_that_is_not_yours_or_does_not_fit_is_400(alice_api, places, body, errors):
    body = {name: places.get(value, value) for name, value in body.items()}
    before = snapshot()

    response = alice_api.post("/api/todo", {"title": "new", **body}, format="json")

    if errors is None:
        assert response.status_code == 201
        return
    assert response.status_code == 400
    assert response.json() == errors
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("field", ["list", "parent"])
def test_put_and_patch_point_to_move_for_list_and_parent(alice_api, places, method, field):
    before = snapshot()
    response = getattr(alice_api, method)(
        f"/api/todo/{places['subtask']}", {"title": "x", field: places["work"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {field: ["Set on create; change it with POST /api/todo/<id>/move."]}
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_list_and_parent_sent_back_as_read_are_ignored(alice_api, places, method):
    url = f"/api/todo/{places['subtask']}"
    body = {**alice_api.get(url).json(), "title": "renamed"}

    response = getattr(alice_api, method)(url, body, format="json")

    assert response.status_code == 200
    assert Todo.objects.get(pk=places["subtask"]).title == "renamed"


def test_completing_a_parent_completes_its_open_subtasks_only_the_parent_is_renamed(
    alice, alice_api
):
    parent = create_todo(owner=alice, title="Trip")
    done_before = create_todo(owner=alice, title="Book", parent_id=parent.pk, completed=True)
    stamped = Todo.objects.get(pk=done_before.pk).completed_at
    create_todo(owner=alice, title="Pack", parent_id=parent.pk)
    other = create_todo(owner=alice, title="Unrelated")

    response = alice_api.patch(
        f"/api/todo/{parent.pk}", {"completed": True, "title": "Trip!"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Trip!"
    subtasks = {t.title: t for t in Todo.objects.filter(parent=parent)}
    assert set(subtasks) == {"Book", "Pack"}
    assert all(t.completed for t in subtasks.values())
    assert subtasks["Book"].completed_at == stamped  # done already: untouched
    assert subtasks["Pack"].completed_at is not None
    assert not Todo.objects.get(pk=other.pk).completed


def test_reopening_a_parent_leaves_its_subtasks_done(alice, alice_api):
    parent = create_todo(owner=alice, title="Trip", completed=True)
    create_todo(owner=alice, title="Pack", parent_id=parent.pk, completed=True)

    alice_api.patch(f"/api/todo/{parent.pk}", {"completed": False}, format="json")

    assert Todo.objects.get(title="Pack").completed


def test_deleting_a_parent_deletes_its_subtasks(alice, alice_api):
    parent = create_todo(owner=alice, title="Trip")
    create_todo(owner=alice, title="Pack", parent_id=parent.pk)
    kept = create_todo(owner=alice, title="Unrelated")

    assert alice_api.delete(f"/api/todo/{parent.pk}").status_code == 204
    assert list(Todo.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_move_places_a_todo_after_a_sibling(alice, alice_api, inbox):
    c, b, a = (create_todo(owner=alice, title=t) for t in "cba")
    assert titles_in_order(inbox) == ["a", "b", "c"]

    response = alice_api.post(f"/api/todo/{a.pk}/move", {"after": b.pk}, format="json")

    assert response.status_code == 200
    assert titles_in_order(inbox) == ["b", "a", "c"]
    response = alice_api.post(f"/api/todo/{a.pk}/move", {"after": c.pk}, format="json")
    assert titles_in_order(inbox) == ["b", "c", "a"]
    response = alice_api.post(f"/api/todo/{a.pk}/move", {}, format="json")
    assert titles_in_order(inbox) == ["a", "b", "c"]
    assert response.json()["position"] == Todo.objects.get(pk=a.pk).position


def test_a_move_writes_the_moved_todo_and_its_subtasks_and_nothing_else(
    alice, alice_api, inbox, work
):
    parent = create_todo(owner=alice, title="Trip")
    create_todo(owner=alice, title="Pack", parent_id=parent.pk)
    create_todo(owner=alice, title="Book", parent_id=parent.pk)
    create_todo(owner=alice, title="stays")
    bystanders = {
        t.pk: (t.list_id, t.position, t.updated_at) for t in Todo.objects.exclude(parent=parent)
    }
    bystanders.pop(parent.pk)

    response = alice_api.post(f"/api/todo/{parent.pk}/move", {"list": work.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["list"] == work.pk
    assert titles_in_order(work) == ["Trip"]
    assert sorted(titles_in_order(work, parent.pk)) == ["Book", "Pack"]
    assert {
        t.pk: (t.list_id, t.position, t.updated_at) for t in Todo.objects.filter(pk__in=bystanders)
    } == bystanders


def test_a_todo_can_be_nested_and_unnested_by_moves(alice, alice_api, inbox):
    parent = create_todo(owner=alice, title="Trip")
    todo = create_todo(owner=alice, title="Pack")

    nested = alice_api.post(f"/api/todo/{todo.pk}/move", {"parent": parent.pk}, format="json")
    assert nested.status_code == 200
    assert nested.json()["parent"] == parent.pk
    assert titles_in_order(inbox) == ["Trip"]

    unnested = alice_api.post(
        f"/api/todo/{todo.pk}/move", {"parent": None, "after": parent.pk}, format="json"
    )
    assert unnested.json()["parent"] is None
    assert titles_in_order(inbox) == ["Trip", "Pack"]


def test_moving_under_a_parent_of_another_list_takes_the_parents_list(alice, alice_api, work):
    parent = create_todo(owner=alice, title="Trip", list_id=work.pk)
    todo = create_todo(owner=alice, title="Pack")

    response = alice_api.post(f"/api/todo/{todo.pk}/move", {"parent": parent.pk}, format="json")

    assert (response.json()["list"], response.json()["parent"]) == (work.pk, parent.pk)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"list": "theirs"}, {"list": ["No list with this id."]}),
        ({"parent": "their todo"}, {"parent": ["No todo with this id."]}),
        ({"parent": "subtask"}, {"parent": ["A subtask cannot have subtasks."]}),
        ({"parent": "moved"}, {"parent": ["A todo cannot be its own parent."]}),
        ({"parent": "parent", "list": "work"}, {"parent": ["This todo is in another list."]}),
        ({"after": "their todo"}, {"after": ["No todo with this id in the place moved to."]}),
        ({"after": "subtask"}, {"after": ["No todo with this id in the place moved to."]}),
        ({"after": "moved"}, {"after": ["No todo with this id in the place moved to."]}),
        (
            {"list": "work", "after": "parent"},
            {"after": ["No todo with this id in the place moved to."]},
        ),
        ({"lsit": "work"}, {"lsit": ["Unknown field."]}),
        ({"after": "one"}, {"after": ["A valid integer is required."]}),
    ],
)
def test_a_move_to_a_place_that_is_not_yours_or_does_not_fit_is_400(
    alice, alice_api, places, body, errors
):
    places["moved"] = create_todo(owner=alice, title="moved").pk
    body = {name: places.get(value, value) for name, value in body.items()}
    before = snapshot()

    response = alice_api.post(f"/api/todo/{places['moved']}/move", body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert snapshot() == before


def test_a_todo_with_subtasks_cannot_become_a_subtask(alice, alice_api, places):
    other = create_todo(owner=alice, title="other")
    before = snapshot()

    response = alice_api.post(
        f"/api/todo/{places['parent']}/move", {"parent": other.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"parent": ["A todo with subtasks cannot become a subtask."]}
    assert snapshot() == before


def test_moving_another_users_todo_is_404_and_writes_nothing(alice_api, places):
    before = snapshot()
    response = alice_api.post(f"/api/todo/{places['their todo']}/move", {}, format="json")
    assert response.status_code == 404
    assert snapshot() == before
