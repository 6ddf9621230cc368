"""The pages' search box and batch edits (without JavaScript: plain GET and POST forms)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from todos import services
from todos.models import Todo, TodoList
from todos.services import create_todo

pytestmark = pytest.mark.django_db


def test_the_search_box_finds_todos_by_the_start_of_a_word(alice, alice_client):
    create_todo(owner=alice, title="Buy milk")
    create_todo(owner=alice, title="Similar things", description="")
    create_todo(owner=alice, title="Call the plumber", description="MILK tap")

    html = alice_client.get("/todos/?q=mil").content.decode()
    assert 'name="q"' in html
    assert 'value="mil"' in html
    assert "Buy milk" in html
    assert "Call the plumber" in html
    assert "Similar things" not in html


def test_search_results_say_what_was_searched_and_come_first(alice, alice_client):
    create_todo(owner=alice, title="Buy oat milk")

    html = alice_client.get("/todos/?q=mil").content.decode()
    assert "Todos with “mil”" in html
    assert "Clear the search" in html
    assert 'class="card add-card"' not in html  # no add form above the results
    assert '<details class="filter-panel">' in html  # the filters stay folded
    assert html.index("Todos with “mil”") < html.index("Buy oat milk")

    html = alice_client.get("/todos/?q=zebra").content.decode()
    assert "No todo has a word starting with “zebra”" in html


def test_a_search_keeps_the_pages_filters(alice, alice_client):
    create_todo(owner=alice, title="milk open")
    create_todo(owner=alice, title="milk done", completed=True)

    html = alice_client.get("/todos/?q=milk&completed=true").content.decode()
    assert "milk done" in html
    assert "milk open" not in html


def test_a_search_without_a_word_says_so(alice, alice_client):
    response = alice_client.get("/todos/?q=%21%21")
    assert response.status_code == 400
    assert "Give at least one word" in response.content.decode()


def test_each_todo_has_a_checkbox_of_the_batch_form(alice, alice_client):
    todo = create_todo(owner=alice, title="Buy milk")
    html = alice_client.get("/todos/").content.decode()
    assert 'id="batch-form"' in html
    assert f'name="ids" value="{todo.pk}" form="batch-form"' in html


def test_a_lists_todos_and_subtasks_have_checkboxes_too(alice, alice_client):
    trip = services.create_list(owner=alice, name="Trip")
    pack = create_todo(owner=alice, title="Pack", list_id=trip.pk)
    passport = create_todo(owner=alice, title="Passport", parent_id=pack.pk)
    html = alice_client.get(trip.get_absolute_url()).content.decode()
    assert 'id="batch-form"' in html
    for todo in (pack, passport):
        assert f'name="ids" value="{todo.pk}" form="batch-form"' in html


def test_a_batch_move_says_where_the_todos_went(alice, alice_client):
    home = services.create_list(owner=alice, name="Home")
    todos = [create_todo(owner=alice, title=f"todo {i}") for i in range(2)]
    page = alice_client.post(
        "/todos/batch/",
        {"action": "move", "ids": [t.pk for t in todos], "list": home.pk, "next": "/"},
        follow=True,
    )
    assert "Moved 2 todos to Home." in page.content.decode()
    assert set(Todo.objects.values_list("list_id", flat=True)) == {home.pk}


def batch(client, action, todos, **extra):
    data = {"action": action, "ids": [todo.pk for todo in todos], "next": "/", **extra}
    return client.post("/todos/batch/", data)


def test_checked_todos_are_marked_done_by_one_update(alice, alice_client):
    todos = [create_todo(owner=alice, title=f"todo {i}") for i in range(3)]
    with CaptureQueriesContext(connection) as queries:
        response = batch(alice_client, "complete", todos[:2])

    assert response.status_code == 302
    assert response["Location"] == "/"
    updates = [q["sql"] for q in queries if "UPDATE" in q["sql"] and '"todos"' not in q["sql"]]
    assert len([q for q in queries if q["sql"].lstrip().startswith("WITH given")]) == 1
    assert not updates
    assert [t.completed for t in Todo.objects.order_by("pk")] == [True, True, False]
    assert "Marked 2 todos done." in alice_client.get("/").content.decode()


def test_checked_todos_are_reopened(alice, alice_client):
    todos = [create_todo(owner=alice, title=f"todo {i}", completed=True) for i in range(2)]
    batch(alice_client, "reopen", todos)
    assert not Todo.objects.filter(completed=True).exists()


def test_delete_asks_first_without_javascript_then_deletes(alice, alice_client):
    todos = [create_todo(owner=alice, title=f"todo {i}") for i in range(3)]
    response = batch(alice_client, "delete", todos[:2])

    assert response.status_code == 200
    html = response.content.decode()
    assert "Delete 2 todos?" in html
    assert "todo 0" in html
    assert "todo 1" in html
    assert Todo.objects.count() == 3

    response = batch(alice_client, "delete", todos[:2], confirmed="yes")
    assert response.status_code == 302
    assert list(Todo.objects.values_list("title", flat=True)) == ["todo 2"]


def test_checked_todos_move_to_a_list_with_their_subtasks(alice, alice_client):
    work = TodoList.objects.create(owner=alice, name="Work")
    parent = create_todo(owner=alice, title="parent")
    subtask = create_todo(owner=alice, title="sub", parent_id=parent.pk)
    lone_parent = create_todo(owner=alice, title="other parent")
    lone_sub = create_todo(owner=alice, title="lone sub", parent_id=lone_parent.pk)
    stays = create_todo(owner=alice, title="stays")

    response = batch(alice_client, "move", [parent, lone_sub], list=str(work.pk))

    assert response.status_code == 302
    moved = {t.title: t for t in Todo.objects.filter(list=work)}
    assert set(moved) == {"parent", "sub", "lone sub"}
    assert moved["sub"].parent_id == parent.pk  # went with its parent
    assert moved["lone sub"].parent_id is None  # left its parent behind: now top-level
    assert Todo.objects.get(pk=stays.pk).list_id != work.pk
    assert Todo.objects.get(pk=subtask.pk).list_id == work.pk
    html = alice_client.get(f"/lists/{work.pk}/").content.decode()
    assert "lone sub" in html


def test_another_users_todo_or_list_changes_nothing(alice, bob, alice_client):
    mine = create_todo(owner=alice, title="mine")
    theirs = create_todo(owner=bob, title="theirs")
    their_list = TodoList.objects.create(owner=bob, name="Theirs")

    batch(alice_client, "complete", [mine, theirs])
    assert not Todo.objects.filter(completed=True).exists()
    batch(alice_client, "move", [mine], list=str(their_list.pk))
    assert Todo.objects.get(pk=mine.pk).list_id == services.selectors.inbox_id(alice)
    batch(alice_client, "delete", [mine, theirs], confirmed="yes")
    assert Todo.objects.count() == 2
    html = alice_client.get("/").content.decode()
    assert "nothing was changed" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "complete"}, "Select at least one todo first."),
        ({"action": "complete", "ids": ["x"]}, "Select at least one todo first."),
        ({"action": "explode", "ids": ["1"]}, "Choose what to do with the selected todos."),
        ({"action": "move", "ids": ["1"], "list": ""}, "Choose the list to move them to."),
    ],
)
def test_a_batch_without_todos_or_action_says_what_is_missing(alice, alice_client, data, message):
    create_todo(owner=alice, title="kept")
    response = alice_client.post("/todos/batch/", {**data, "next": "/"}, follow=True)
    assert message in response.content.decode()
    assert Todo.objects.get().title == "kept"
