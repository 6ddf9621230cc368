"""Due dates from 1900 to 2200: anything else is a 400 in the API's error format (create, update
and bulk, on both doors) and a clear message on the pages, with nothing written."""

import pytest

from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db
MESSAGE = "Due dates go from 1900 to 2200."


@pytest.mark.parametrize("due", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_the_api_refuses_a_due_date_out_of_range_and_writes_nothing(alice, alice_api, due):
    created = alice_api.post("/api/todo", {"title": "Odd", "due_date": due}, format="json")
    assert created.status_code == 400
    assert created.json() == {"due_date": [MESSAGE]}

    todo = create_todo(owner=alice, title="Kept")
    patched = alice_api.patch(f"/api/todo/{todo.pk}", {"due_date": due}, format="json")
    assert patched.status_code == 400
    assert patched.json() == {"due_date": [MESSAGE]}

    bulk = alice_api.post(
        "/api/todo/bulk",
        [{"title": "fine", "due_date": "2030-01-01"}, {"title": "odd", "due_date": due}],
        format="json",
    )
    assert bulk.status_code == 400
    assert bulk.json() == {"1": {"due_date": [MESSAGE]}}
    assert list(Todo.objects.values_list("title", "due_date")) == [("Kept", None)]


@pytest.mark.parametrize("due", ["1900-01-01", "2200-12-31"])
def test_the_ends_of_the_range_are_accepted(alice_api, due):
    response = alice_api.post("/api/todo", {"title": "Edge", "due_date": due}, format="json")
    assert response.status_code == 201
    assert response.json()["due_date"] == due
