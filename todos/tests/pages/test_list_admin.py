"""The admin of lists, and lists in the todo admin: a column that links to the list's todos, a
filter of fixed size, and no query per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from todos.models import Todo, TodoList
from todos.services import create_list, create_todo

pytestmark = pytest.mark.django_db

TODOS = "/admin/todos/todo/"
LISTS = "/admin/todos/todolist/"


def test_the_todo_change_list_shows_each_todos_list_linking_to_its_todos(alice, staff_client):
    work = create_list(owner=alice, name="Work")
    create_todo(owner=alice, title="Pay rent")
    create_todo(owner=alice, title="Write report", list_id=work.pk)

    html = staff_client.get(TODOS).content.decode()
    assert f'<a href="?list__id__exact={work.pk}">Work</a>' in html
    assert ">Inbox</a>" in html

    filtered = staff_client.get(f"{TODOS}?list__id__exact={work.pk}").content.decode()
    assert "Write report" in filtered
    assert "Pay rent" not in filtered


def test_the_list_filter_offers_inboxes_or_other_lists_however_many_lists_there_are(
    alice, bob, staff_client
):
    for n in range(5):
        create_list(owner=bob, name=f"List {n}")
    create_todo(owner=alice, title="Pay rent")
    create_todo(owner=alice, title="Write report", list_id=create_list(owner=alice, name="W").pk)

    html = staff_client.get(f"{TODOS}?in=other").content.decode()

    assert "Write report" in html
    assert "Pay rent" not in html
    assert "List 3" not in html  # the filter does not list the lists


def test_the_page_costs_the_same_queries_for_5_or_50_todos_in_many_lists(alice, staff_client):
    def queries_for_page():
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(TODOS).status_code == 200
        return len(queries.captured_queries)

    for n in range(5):
        create_todo(owner=alice, title=f"t{n}", list_id=create_list(owner=alice, name=f"L{n}").pk)
    few = queries_for_page()
    for n in range(45):
        create_todo(owner=alice, title=f"u{n}", list_id=create_list(owner=alice, name=f"M{n}").pk)
    assert queries_for_page() == few


def test_staff_see_and_rename_lists_but_cannot_delete_an_inbox(alice, staff_client):
    inbox = TodoList.objects.get(owner=alice, is_inbox=True)
    work = create_list(owner=alice, name="Work")

    html = staff_client.get(LISTS).content.decode()
    assert "Inbox" in html
    assert "Work" in html
    assert staff_client.get(f"{LISTS}{inbox.pk}/delete/").status_code == 403
    assert staff_client.get(f"{LISTS}{work.pk}/delete/").status_code == 200


def test_a_bulk_delete_with_an_inbox_deletes_nothing_without_one_deletes_lists_and_todos(
    alice, staff_client
):
    work = create_list(owner=alice, name="Work")
    create_todo(owner=alice, title="at work", list_id=work.pk)
    kept = create_todo(owner=alice, title="in the inbox")
    inbox = TodoList.objects.get(owner=alice, is_inbox=True)

    def delete(*lists):
        action = {"action": "delete_selected", "post": "yes"}
        staff_client.post(LISTS, {**action, "_selected_action": [x.pk for x in lists]})

    delete(inbox, work)
    assert TodoList.objects.filter(owner=alice).count() == 2
    assert Todo.objects.count() == 2

    delete(work)
    assert list(TodoList.objects.filter(owner=alice).values_list("name", flat=True)) == ["Inbox"]
    assert list(Todo.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_list_name_taken_by_the_owner_ignoring_case_is_refused_in_the_admin(alice, staff_client):
    response = staff_client.post(f"{LISTS}add/", {"owner": alice.pk, "name": "INBOX"})
    assert response.status_code == 200
    assert TodoList.objects.filter(owner=alice).count() == 1
