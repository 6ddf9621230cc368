"""No object of another user is reachable through any endpoint, filter, cursor, header or
body: bob probes everything that alice has."""

import pytest
from rest_framework.authtoken.models import Token

from todos.api.etag import etag_for
from todos.models import Priority, Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices(alice):
    """Alice's todos, of every kind a filter can pick."""
    return [
        create_todo(owner=alice, title="open high", priority=Priority.HIGH, due_date="2027-01-10"),
        create_todo(owner=alice, title="done low", priority=Priority.LOW, completed=True),
        create_todo(owner=alice, title="plain"),
    ]


def titles(response):
    return [todo["title"] for todo in response.json()["results"]]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "completed=true",
        "completed=false",
        "priority=high",
        "priority=low",
        "due_before=2030-01-01",
        "due_after=2000-01-01",
        "page_size=100",
    ],
)
def test_no_filter_lists_another_users_todos(alices, bob, bob_api, query):
    create_todo(owner=bob, title="bob's")
    response = bob_api.get(f"/api/todo?{query}")
    assert response.status_code == 200
    assert set(titles(response)) <= {"bob's"}


def test_another_users_cursor_pages_only_your_own(alices, alice_api, bob, bob_api):
    create_todo(owner=bob, title="bob's")
    alices_next = alice_api.get("/api/todo?page_size=1").json()["next"]
    assert alices_next
    response = bob_api.get(alices_next)
    assert set(titles(response)) <= {"bob's"}


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_todo_is_404_with_any_if_match(alices, bob_api, method):
    todo = alices[0]
    for if_match in ("*", etag_for(todo), '"nope"'):
        response = getattr(bob_api, method)(
            f"/api/todo/{todo.pk}", {"title": "mine"}, format="json", HTTP_IF_MATCH=if_match
        )
        assert response.status_code == 404
        assert not response.has_header("ETag")
    todo.refresh_from_db()
    assert todo.title == "open high"


@pytest.mark.parametrize("path", ["/api/todo", "/api/todo/bulk"])
def test_a_body_cannot_name_another_users_id(alice, alices, bob, bob_api, path):
    item = {"title": "bob's", "id": alices[0].pk}
    response = bob_api.post(path, [item] if path.endswith("bulk") else item, format="json")
    assert response.status_code == 201
    assert set(Todo.objects.filter(title="bob's").values_list("owner", flat=True)) == {bob.pk}
    assert Todo.objects.get(pk=alices[0].pk).title == "open high"
    assert Todo.objects.filter(owner=alice).count() == 3


@pytest.mark.parametrize("path", ["/api/todo", "/api/todo/bulk"])
def test_a_body_cannot_name_another_owner(alice, bob, bob_api, path):
    item = {"title": "bob's", "owner": alice.pk, "owner_id": alice.pk}
    response = bob_api.post(path, [item] if path.endswith("bulk") else item, format="json")
    assert response.status_code == 400
    unknown = {"owner": ["Unknown field."], "owner_id": ["Unknown field."]}
    assert response.json() == ({"0": unknown} if path.endswith("bulk") else unknown)
    assert not Todo.objects.exists()


def test_an_update_cannot_move_a_todo_to_another_user(alice, bob, bob_api):
    todo = create_todo(owner=bob, title="bob's")
    response = bob_api.patch(f"/api/todo/{todo.pk}", {"owner": alice.pk}, format="json")
    assert response.status_code == 400
    assert Todo.objects.get(pk=todo.pk).owner == bob


def test_another_users_idempotency_key_replays_nothing_of_theirs(alices, alice_api, bob_api):
    alice_api.post("/api/todo", {"title": "secret"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    response = bob_api.post(
        "/api/todo", {"title": "secret"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert Todo.objects.get(pk=response.json()["id"]).owner.username == "bob"


def test_revoking_a_token_revokes_only_your_own(alice, alice_api, bob_api):
    alice_api.get("/api/todo")  # alice has a token
    bob_api.delete("/api/auth/token")
    assert Token.objects.filter(user=alice).exists()
    assert alice_api.get("/api/todo").status_code == 200


def test_pool_status_is_for_staff_only(alice_api):
    assert alice_api.get("/api/debug/pool-status").status_code == 403


def test_a_session_reaches_only_its_own_users_todos(alices, bob, client):
    client.force_login(bob)
    assert titles(client.get("/api/todo")) == []
    assert client.get(f"/api/todo/{alices[0].pk}").status_code == 404
