"""On the pages: due dates outside 1900-2200 get a clear message, medium priority shows as
such, and the description has one name."""

import pytest

from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db
MESSAGE = "Due dates go from 1900 to 2200."


def test_the_pages_say_so_and_show_medium_priority_and_one_name_for_the_description(
    alice, alice_client
):
    page = alice_client.post(
        "/todos/new/", {"title": "Odd", "priority": "medium", "due_date": "0001-01-01"}
    )
    html = page.content.decode()
    assert MESSAGE in html
    assert not Todo.objects.exists()
    assert 'min="1900-01-01"' in html
    assert 'max="2200-12-31"' in html
    assert ">Description <span" in html
    assert "Notes" not in html

    create_todo(owner=alice, title="Ordinary")
    assert "Medium priority" in alice_client.get("/").content.decode()
    assert "Notes" not in alice_client.get("/todos/").content.decode()
