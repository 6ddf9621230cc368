import pytest

from todos.models import Priority, Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


def test_it_shows_the_todo_in_a_form(alice, alice_client):
    todo = create_todo(owner=alice, title="Water plants", priority=Priority.HIGH)

    response = alice_client.get(todo.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Water plants"' in html
    assert '<option value="high" selected>High</option>' in html


def test_it_saves_changes_and_says_so(alice, alice_client):
    todo = create_todo(owner=alice, title="Water plants")

    response = alice_client.post(
        todo.get_absolute_url(),
        {"title": "Water all plants", "priority": "low", "description": "  the ferns  "},
        follow=True,
    )

    todo.refresh_from_db()
    assert (todo.title, todo.priority, todo.description) == (
        "Water all plants",
        Priority.LOW,
        "  the ferns  ",
    )
    assert "Saved “Water all plants”." in response.content.decode()


def test_marking_it_done_in_the_form_stamps_completed_at_and_undoing_clears_it(alice, alice_client):
    todo = create_todo(owner=alice, title="Water plants")
    form = {"title": "Water plants", "priority": "medium"}

    alice_client.post(todo.get_absolute_url(), {**form, "completed": "on"})
    todo.refresh_from_db()
    assert todo.completed
    assert todo.completed_at is not None

    alice_client.post(todo.get_absolute_url(), form)
    todo.refresh_from_db()
    assert not todo.completed
    assert todo.completed_at is None


def test_bad_input_keeps_the_old_values(alice, alice_client):
    todo = create_todo(owner=alice, title="Water plants")

    response = alice_client.post(todo.get_absolute_url(), {"title": " ", "priority": "medium"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    todo.refresh_from_db()
    assert todo.title == "Water plants"


def test_another_users_todo_is_404(alice, bob_client):
    todo = create_todo(owner=alice, title="mine")

    assert bob_client.get(todo.get_absolute_url()).status_code == 404
    assert bob_client.post(todo.get_absolute_url(), {"title": "hijacked"}).status_code == 404
    assert Todo.objects.get().title == "mine"


@pytest.mark.parametrize("path", ["/todos/0/", "/todos/99999999999999999999/", "/todos/abc/"])
def test_ids_that_cannot_exist_are_404(alice_client, path):
    assert alice_client.get(path).status_code == 404
