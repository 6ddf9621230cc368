"""What a careful HTTP client expects of the API, through both doors (token on the fast lane and
Django's test client): 304 for a copy that is still current, unknown fields refused by name while
a todo as read can be sent back, and 401 for a wrong password."""

import pytest

from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def todo(alice):
    return create_todo(owner=alice, title="read me", priority=3)


def test_a_current_etag_in_if_none_match_is_304_without_a_body(alice_api, todo):
    first = alice_api.get(f"/api/todo/{todo.pk}")
    etag = first["ETag"]
    again = alice_api.get(f"/api/todo/{todo.pk}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    weak_in_a_list = alice_api.get(f"/api/todo/{todo.pk}", HTTP_IF_NONE_MATCH=f'"x", W/{etag}')
    assert weak_in_a_list.status_code == 304
    assert alice_api.get(f"/api/todo/{todo.pk}", HTTP_IF_NONE_MATCH="*").status_code == 304


def test_an_old_etag_in_if_none_match_gets_the_new_todo(alice_api, todo):
    etag = alice_api.get(f"/api/todo/{todo.pk}")["ETag"]
    alice_api.patch(f"/api/todo/{todo.pk}", {"title": "changed"}, format="json")
    response = alice_api.get(f"/api/todo/{todo.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["title"] == "changed"
    assert response["ETag"] != etag


def test_if_none_match_on_another_users_todo_is_still_404(bob_api, todo):
    response = bob_api.get(f"/api/todo/{todo.pk}", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_an_unknown_field_is_400_naming_it_and_nothing_is_written(alice_api, todo, method):
    path = "/api/todo" if method == "post" else f"/api/todo/{todo.pk}"
    body = {"title": "typo", "colour": "red", "prority": "low"}
    response = getattr(alice_api, method)(path, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"colour": ["Unknown field."], "prority": ["Unknown field."]}
    assert list(Todo.objects.values_list("title", flat=True)) == ["read me"]


def test_unknown_fields_are_named_beside_the_invalid_ones(alice_api):
    response = alice_api.post("/api/todo", {"title": "", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "title": ["This field may not be blank."],
        "colour": ["Unknown field."],
    }


def test_a_bulk_item_with_an_unknown_field_fails_the_batch_by_position(alice_api):
    items = [{"title": "fine"}, {"title": "also fine", "tags": ["x"]}]
    response = alice_api.post("/api/todo/bulk", items, format="json")
    assert response.status_code == 400
    assert response.json() == {"1": {"tags": ["Unknown field."]}}
    assert not Todo.objects.exists()


def test_a_todo_as_read_can_be_put_back(alice_api, todo):
    read = alice_api.get(f"/api/todo/{todo.pk}").json()
    response = alice_api.put(f"/api/todo/{todo.pk}", {**read, "title": "put back"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "put back"
    assert response.json()["priority"] == "high"


def test_a_wrong_password_is_401_and_missing_fields_400(alice, anon_api):
    wrong = anon_api.post(
        "/api/auth/token", {"username": "alice", "password": "wrong"}, format="json"
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Unable to log in with provided credentials."}
    missing = anon_api.post("/api/auth/token", {"username": "alice"}, format="json")
    assert missing.status_code == 400
    assert missing.json() == {"password": ["This field is required."]}
