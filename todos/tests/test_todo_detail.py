import pytest
from rest_framework.test import APIClient

from todos.models import Priority, Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def todo(alice):
    return create_todo(owner=alice, title="Walk the dog", priority=Priority.HIGH)


def test_it_returns_one_todo(alice_api, todo):
    response = alice_api.get(f"/api/todo/{todo.pk}")
    assert response.status_code == 200
    assert response.json()["title"] == "Walk the dog"
    assert response.json()["priority"] == "high"


def test_put_replaces_every_field(alice_api, todo):
    response = alice_api.put(f"/api/todo/{todo.pk}", {"title": "Walk the cat"}, format="json")
    assert response.status_code == 200
    todo.refresh_from_db()
    assert todo.title == "Walk the cat"
    assert todo.priority == Priority.MEDIUM  # omitted, so back to the default


def test_put_without_a_title_is_400(alice_api, todo):
    response = alice_api.put(f"/api/todo/{todo.pk}", {"priority": "low"}, format="json")
    assert response.status_code == 400
    todo.refresh_from_db()
    assert todo.priority == Priority.HIGH


def test_patch_changes_only_the_given_fields(alice_api, todo):
    response = alice_api.patch(f"/api/todo/{todo.pk}", {"due_date": "2027-03-01"}, format="json")
    assert response.status_code == 200
    todo.refresh_from_db()
    assert str(todo.due_date) == "2027-03-01"
    assert todo.title == "Walk the dog"
    assert todo.priority == Priority.HIGH


def test_completing_stamps_completed_at_and_reopening_clears_it(alice_api, todo):
    done = alice_api.patch(f"/api/todo/{todo.pk}", {"completed": True}, format="json").json()
    assert done["completed"] is True
    assert done["completed_at"] is not None

    reopened = alice_api.patch(f"/api/todo/{todo.pk}", {"completed": False}, format="json").json()
    assert reopened["completed_at"] is None


def test_patch_with_bad_input_is_400_and_changes_nothing(alice_api, todo):
    response = alice_api.patch(
        f"/api/todo/{todo.pk}", {"title": "", "priority": "urgent"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"title", "priority"}
    todo.refresh_from_db()
    assert todo.title == "Walk the dog"


def test_delete_removes_it(alice_api, todo):
    response = alice_api.delete(f"/api/todo/{todo.pk}")
    assert response.status_code == 204
    assert not Todo.objects.filter(pk=todo.pk).exists()
    assert alice_api.get(f"/api/todo/{todo.pk}").status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_todo_does_not_exist_for_you(bob_api, todo, method):
    response = getattr(bob_api, method)(f"/api/todo/{todo.pk}", {"title": "mine"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No todo with this id."}
    todo.refresh_from_db()
    assert todo.title == "Walk the dog"


@pytest.mark.parametrize("pk", ["abc", "0", "-1", "1.5", "9223372036854775808", "9" * 30])
def test_ids_that_are_not_todo_ids_are_404_in_json(alice_api, pk):
    response = alice_api.get(f"/api/todo/{pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_missing_todo_is_404(alice_api):
    assert alice_api.get("/api/todo/9223372036854775807").status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_anonymous_callers_get_401(anon_api, todo, method):
    assert getattr(anon_api, method)(f"/api/todo/{todo.pk}").status_code == 401


@pytest.mark.parametrize("method", ["put", "patch", "delete", "post"])
def test_unknown_api_paths_are_json_404_for_unsafe_methods_with_a_session(alice, method):
    """A session without a CSRF token got Django's HTML 403 from the catch-all route; found by
    schema fuzzing."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    response = getattr(client, method)("/api/todo/9223372036854775808", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
