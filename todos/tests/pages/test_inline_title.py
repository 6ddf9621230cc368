"""The title endpoint behind the list's inline edit: the row back for the script, a redirect with
a message for a plain POST, a clear 400 for a title that is not one, another user's a 404."""

import pytest

from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db
FETCH = {"X-Requested-With": "fetch"}


def test_the_script_gets_the_renamed_row(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum")
    response = alice_client.post(
        f"/todos/{todo.pk}/title/", {"title": "  Call dad "}, headers=FETCH
    )
    assert response.status_code == 200
    assert 'data-announce="Renamed to “Call dad”."' in response.content.decode()
    assert Todo.objects.get().title == "Call dad"


@pytest.mark.parametrize(
    ("title", "problem"),
    [("   ", "This field is required."), ("x" * 201, "at most 200 characters"), ("a\x00b", "Null")],
)
def test_a_title_that_is_not_one_is_a_400_and_nothing_changes(alice, alice_client, title, problem):
    todo = create_todo(owner=alice, title="Call mum")
    response = alice_client.post(f"/todos/{todo.pk}/title/", {"title": title}, headers=FETCH)
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert Todo.objects.get().title == "Call mum"


def test_without_the_script_it_goes_back_with_a_message(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum")
    page = alice_client.post(f"/todos/{todo.pk}/title/", {"title": "", "next": "/"}, follow=True)
    assert "The title was not changed: This field is required." in page.content.decode()


def test_another_users_todo_is_not_found(alice, bob_client):
    todo = create_todo(owner=alice, title="Call mum")
    assert bob_client.post(f"/todos/{todo.pk}/title/", {"title": "Mine"}).status_code == 404
    assert Todo.objects.get().title == "Call mum"
