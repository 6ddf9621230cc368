import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from todos.admin import EstimatedCountPaginator
from todos.models import Priority, Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/todos/todo/"


def todo_queries(context, verb):
    return [q["sql"] for q in context.captured_queries if q["sql"].startswith(verb)]


def test_the_change_list_shows_the_columns_staff_need(alice, staff_client):
    create_todo(owner=alice, title="Pay rent", priority=Priority.HIGH)

    html = staff_client.get(CHANGELIST).content.decode()

    for column in ("Title", "Owner", "Priority", "Completed", "Due date", "Created at"):
        assert column in html
    assert "Pay rent" in html
    assert '<nav class="toplinks">' in html  # the date hierarchy
    assert "created_at__" in html


def test_the_unfiltered_change_list_does_not_count_the_table(alice, staff_client, monkeypatch):
    Todo.objects.bulk_create(Todo(owner=alice, title=f"t{i}") for i in range(30))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE todos")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)  # as if the table were huge

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    counts = [q for q in todo_queries(queries, "SELECT COUNT(") if '"todos"' in q]
    assert counts == []
    assert any("reltuples" in q["sql"] for q in queries.captured_queries)
    assert response.context["cl"].result_count == 30  # ANALYZE's estimate: exact on 30 rows


def test_a_filtered_change_list_counts_exactly(alice, staff_client, monkeypatch):
    create_todo(owner=alice, title="done", completed=True)
    create_todo(owner=alice, title="open")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(CHANGELIST + "?completed__exact=1")

    html = response.content.decode()
    assert "done" in html
    assert ">open<" not in html
    assert len(todo_queries(queries, "SELECT COUNT(")) == 1


def test_a_small_table_is_counted_exactly(alice, staff_client):
    create_todo(owner=alice, title="only one")
    response = staff_client.get(CHANGELIST)
    assert response.context["cl"].result_count == 1


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [("mark_completed", False, True), ("mark_not_completed", True, False)],
)
def test_the_bulk_actions_change_the_selected_todos_in_one_update(
    alice, staff_client, action, start, end
):
    picked = [create_todo(owner=alice, title=f"p{i}", completed=start) for i in range(3)]
    other = create_todo(owner=alice, title="left alone", completed=start)

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.post(
            CHANGELIST,
            {"action": action, "_selected_action": [t.pk for t in picked]},
            follow=True,
        )

    updates = todo_queries(queries, 'UPDATE "todos"')
    assert len(updates) == 1
    assert f"Marked 3 todos {'completed' if end else 'not completed'}." in response.content.decode()
    assert Todo.objects.filter(pk__in=[t.pk for t in picked], completed=end).count() == 3
    assert all((t.completed_at is not None) == end for t in Todo.objects.filter(completed=end))
    other.refresh_from_db()
    assert other.completed == start


def test_the_owner_widget_does_not_load_every_user(alice, bob, staff_client):
    html = staff_client.get(CHANGELIST + "add/").content.decode()
    select = re.search(r'<select name="owner".*?</select>', html, re.S).group(0)
    assert "admin-autocomplete" in select
    assert "alice" not in select
    assert "bob" not in select


def test_adding_a_done_todo_in_the_admin_stamps_completed_at(alice, staff_client):
    response = staff_client.post(
        CHANGELIST + "add/",
        {"owner": alice.pk, "title": "From admin", "priority": Priority.LOW, "completed": "on"},
    )

    assert response.status_code == 302
    todo = Todo.objects.get()
    assert (todo.owner, todo.title, todo.priority) == (alice, "From admin", Priority.LOW)
    assert todo.completed_at is not None


def test_completing_a_todo_in_the_admin_stamps_completed_at(alice, staff_client):
    todo = create_todo(owner=alice, title="Edit me")

    staff_client.post(
        f"{CHANGELIST}{todo.pk}/change/",
        {"title": "Edited", "priority": Priority.MEDIUM, "completed": "on"},
    )

    todo.refresh_from_db()
    assert (todo.title, todo.completed, todo.owner) == ("Edited", True, alice)
    assert todo.completed_at is not None


def test_search_finds_titles_and_owners(alice, bob, staff_client):
    create_todo(owner=alice, title="Buy milk")
    create_todo(owner=bob, title="Fix bike")

    by_title = staff_client.get(CHANGELIST + "?q=milk").content.decode()
    by_owner = staff_client.get(CHANGELIST + "?q=bob").content.decode()

    assert "Buy milk" in by_title
    assert "Fix bike" not in by_title
    assert "Fix bike" in by_owner
    assert "Buy milk" not in by_owner


def test_search_uses_the_word_rule_of_the_api_and_keeps_the_filters(alice, bob, staff_client):
    create_todo(owner=alice, title="Buy milk")
    create_todo(owner=bob, title="Similar", description="MILKSHAKE recipe")
    create_todo(owner=bob, title="milk done", completed=True)

    html = staff_client.get(CHANGELIST + "?q=mil").content.decode()
    assert all(title in html for title in ("Buy milk", "Similar", "milk done"))
    assert "Similar" not in staff_client.get(CHANGELIST + "?q=ilar").content.decode()
    html = staff_client.get(CHANGELIST + "?q=milk&completed__exact=1").content.decode()
    assert "milk done" in html
    assert "Buy milk" not in html
    assert "Buy milk" not in staff_client.get(CHANGELIST + "?q=%21%21").content.decode()


def test_search_past_the_probe_finds_the_newest_matches(alice, staff_client, monkeypatch):
    from todos import selectors

    monkeypatch.setattr(selectors, "MATCHES_LIMIT", 2)
    for n in range(30):
        create_todo(owner=alice, title=f"item {n}" + (" rare" if n in (3, 17) else ""))
    html = staff_client.get(CHANGELIST + "?q=rare").content.decode()
    assert "item 3 rare" in html
    assert "item 17 rare" in html
    found = selectors.newest_matching(Todo.objects.all(), "item", limit=2)
    assert [todo.title for todo in found] == ["item 29", "item 28"]


def test_the_admin_index_links_to_the_pool_dashboard(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert 'href="/staff/pool/"' in html


def test_non_staff_cannot_open_the_admin(alice_client):
    response = alice_client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
