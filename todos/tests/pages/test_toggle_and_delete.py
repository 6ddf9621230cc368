import pytest

from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


def test_marking_done_from_the_list_redirects_back_with_a_message(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum")

    response = alice_client.post(
        f"/todos/{todo.pk}/toggle/", {"completed": "true", "next": "/?priority=medium"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/?priority=medium"
    todo.refresh_from_db()
    assert todo.completed
    assert todo.completed_at is not None
    html = alice_client.get("/todos/").content.decode()
    assert "Marked “Call mum” done." in html


def test_marking_not_done_reopens_it(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum", completed=True)

    alice_client.post(f"/todos/{todo.pk}/toggle/", {"completed": "false"})

    todo.refresh_from_db()
    assert not todo.completed
    assert todo.completed_at is None


def test_the_script_gets_the_new_row_instead_of_a_redirect(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum")

    response = alice_client.post(
        f"/todos/{todo.pk}/toggle/", {"completed": "true"}, headers={"X-Requested-With": "fetch"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith("<li")
    assert 'data-announce="Marked “Call mum” done."' in html
    assert "Mark “Call mum” not done" in html
    # The message went to the row, not into the next page's message list.
    assert "Marked “Call mum” done." not in alice_client.get("/todos/").content.decode()


def test_toggle_and_delete_change_nothing_on_a_get(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum")
    assert alice_client.get(f"/todos/{todo.pk}/toggle/").status_code == 405
    assert alice_client.get(f"/todos/{todo.pk}/delete/").status_code == 200  # it asks first
    assert Todo.objects.filter(pk=todo.pk, completed=False).exists()


def test_deleting_removes_it_and_says_so(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum")

    response = alice_client.post(f"/todos/{todo.pk}/delete/", follow=True)

    assert not Todo.objects.filter(pk=todo.pk).exists()
    assert "Deleted “Call mum”." in response.content.decode()


def test_deleting_from_the_edit_page_does_not_go_back_to_the_deleted_todo(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum")

    response = alice_client.post(
        f"/todos/{todo.pk}/delete/", {"next": todo.get_absolute_url() + "?next=/"}
    )

    assert response["Location"] == "/"


def test_another_users_todo_cannot_be_toggled_or_deleted(alice, bob_client):
    todo = create_todo(owner=alice, title="mine")

    assert bob_client.post(f"/todos/{todo.pk}/toggle/", {"completed": "true"}).status_code == 404
    assert bob_client.post(f"/todos/{todo.pk}/delete/").status_code == 404
    todo.refresh_from_db()
    assert not todo.completed
