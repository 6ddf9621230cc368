"""The pages of lists, without JavaScript: a sidebar of lists with open counts, a list in manual
order with subtasks indented under their parent, and buttons that move, add and delete."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from todos.models import Todo, TodoList
from todos.services import create_list, create_todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(alice):
    return TodoList.objects.get(owner=alice, is_inbox=True)


def page_of(client, todo_list):
    response = client.get(todo_list.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def shown_titles(html):
    return re.findall(r'class="todo__title"[^>]*>(?:<span[^>]*>Done: </span>)?([^<]+)</a>', html)


def sidebar_counts(html):
    """(list name, overdue count or "", open count) for each list in the sidebar."""
    lists = html.split('<h3 class="sidebar__heading">Lists</h3>')[1].split("</ul>")[0]
    return re.findall(
        r'>([^<]+)</a>\s*<span class="counts">'
        r'(?:<span class="count count--overdue"[^>]*>(\d+)<.*?)?'
        r'<span class="count" title="open todos">(\d+)<',
        lists,
        re.S,
    )


def test_the_sidebar_lists_every_list_with_its_open_and_overdue_counts(alice, alice_client, inbox):
    work = create_list(owner=alice, name="Work")
    create_todo(owner=alice, title="open one")
    create_todo(owner=alice, title="done one", completed=True)
    create_todo(owner=alice, title="at work", list_id=work.pk)
    long_ago = timezone.localdate() - dt.timedelta(days=3)
    create_todo(owner=alice, title="late", list_id=work.pk, due_date=long_ago)
    create_todo(owner=alice, title="late but done", due_date=long_ago, completed=True)

    html = page_of(alice_client, inbox)

    assert sidebar_counts(html) == [("Inbox", "", "1"), ("Work", "1", "2")]


def test_a_list_shows_its_todos_in_manual_order_with_subtasks_indented(alice, alice_client, inbox):
    second = create_todo(owner=alice, title="second")
    create_todo(owner=alice, title="first")
    create_todo(owner=alice, title="a step", parent_id=second.pk)

    html = page_of(alice_client, inbox)

    assert shown_titles(html) == ["first", "second", "a step"]
    subtasks = html.split('aria-label="Subtasks of “second”"')[1].split("</ol>")[0]
    assert "a step" in subtasks


def test_move_down_and_up_buttons_reorder_the_list(alice, alice_client, inbox):
    for title in ("c", "b", "a"):
        create_todo(owner=alice, title=title)
    a = Todo.objects.get(title="a")
    b = Todo.objects.get(title="b")

    down = alice_client.post(f"/todos/{a.pk}/move/", {"after": b.pk, "next": f"/lists/{inbox.pk}/"})
    assert down.status_code == 302
    assert shown_titles(page_of(alice_client, inbox)) == ["b", "a", "c"]

    alice_client.post(f"/todos/{a.pk}/move/", {"after": "", "next": f"/lists/{inbox.pk}/"})
    assert shown_titles(page_of(alice_client, inbox)) == ["a", "b", "c"]


def test_the_page_offers_the_buttons_that_move_each_todo_up_and_down(alice, alice_client, inbox):
    for title in ("c", "b", "a"):
        create_todo(owner=alice, title=title)

    html = page_of(alice_client, inbox)

    assert html.count("move “a” up") == 0  # first already
    assert html.count("move “a” down") == 1
    assert html.count("move “c” down") == 0


def test_a_todo_can_be_moved_to_another_list_with_its_subtasks(alice, alice_client, inbox):
    work = create_list(owner=alice, name="Work")
    parent = create_todo(owner=alice, title="Trip")
    create_todo(owner=alice, title="Pack", parent_id=parent.pk)

    alice_client.post(f"/todos/{parent.pk}/move/", {"list": work.pk, "next": "/"})

    assert shown_titles(page_of(alice_client, inbox)) == []
    assert shown_titles(page_of(alice_client, work)) == ["Trip", "Pack"]


def test_a_subtask_is_added_under_its_parent(alice, alice_client, inbox):
    parent = create_todo(owner=alice, title="Trip")

    response = alice_client.post(
        "/todos/new/",
        {"title": "Pack", "priority": "medium", "parent": parent.pk, "next": f"/lists/{inbox.pk}/"},
    )

    assert response.status_code == 302
    assert Todo.objects.get(title="Pack").parent_id == parent.pk


def test_a_todo_added_on_a_list_page_goes_into_that_list(alice, alice_client):
    work = create_list(owner=alice, name="Work")
    alice_client.post("/todos/new/", {"title": "Report", "priority": "medium", "list": work.pk})
    assert Todo.objects.get(title="Report").list_id == work.pk


def test_lists_are_added_and_renamed_and_a_taken_name_is_said(alice, alice_client, inbox):
    response = alice_client.post("/lists/new/", {"name": "Home"})
    home = TodoList.objects.get(owner=alice, name="Home")
    assert response["Location"] == f"/lists/{home.pk}/"

    alice_client.post(f"/lists/{home.pk}/rename/", {"name": "House"})
    home.refresh_from_db()
    assert home.name == "House"

    response = alice_client.post("/lists/new/", {"name": "inbox"}, follow=True)
    assert "You already have a list with this name." in response.content.decode()
    assert TodoList.objects.filter(owner=alice).count() == 2


def test_deleting_a_list_asks_first_then_deletes_its_todos(alice, alice_client):
    work = create_list(owner=alice, name="Work")
    create_todo(owner=alice, title="Report", list_id=work.pk)

    confirm = alice_client.get(f"/lists/{work.pk}/delete/").content.decode()
    assert "Its 1 todo (subtasks included) will be deleted with it." in confirm
    assert TodoList.objects.filter(pk=work.pk).exists()

    alice_client.post(f"/lists/{work.pk}/delete/")
    assert not TodoList.objects.filter(pk=work.pk).exists()
    assert not Todo.objects.filter(title="Report").exists()


def test_the_inbox_is_not_deleted_from_the_pages(alice_client, inbox):
    alice_client.post(f"/lists/{inbox.pk}/delete/")
    assert TodoList.objects.filter(pk=inbox.pk).exists()


def test_another_users_list_and_todos_are_404(alice_client, bob):
    theirs = create_list(owner=bob, name="Theirs")
    todo = create_todo(owner=bob, title="theirs", list_id=theirs.pk)

    assert alice_client.get(f"/lists/{theirs.pk}/").status_code == 404
    assert alice_client.post(f"/lists/{theirs.pk}/delete/").status_code == 404
    assert alice_client.post(f"/todos/{todo.pk}/move/", {"after": ""}).status_code == 404
    assert TodoList.objects.filter(pk=theirs.pk).exists()


def test_a_move_that_does_not_fit_says_why_and_changes_nothing(alice, alice_client, inbox):
    parent = create_todo(owner=alice, title="Trip")
    sub = create_todo(owner=alice, title="Pack", parent_id=parent.pk)
    other = create_todo(owner=alice, title="Other")

    response = alice_client.post(
        f"/todos/{other.pk}/move/", {"parent": sub.pk, "next": f"/lists/{inbox.pk}/"}, follow=True
    )

    assert "A subtask cannot have subtasks." in response.content.decode()
    assert Todo.objects.get(pk=other.pk).parent_id is None


def test_the_front_page_is_the_inbox_and_the_inbox_has_no_second_address(
    alice, alice_client, inbox
):
    create_todo(owner=alice, title="Call mum")
    html = alice_client.get("/").content.decode()
    assert re.search(r"<h1[^>]*>Inbox</h1>", html)
    assert shown_titles(html) == ["Call mum"]

    response = alice_client.get(f"/lists/{inbox.pk}/?order=due")
    assert response.status_code == 302
    assert response["Location"] == "/?order=due"


def test_all_todos_with_filters_is_one_click_from_every_list_and_links_back(alice_client):
    assert 'href="/todos/"' in alice_client.get("/").content.decode()
    assert 'href="/"' in alice_client.get("/todos/").content.decode()


def test_in_and_out_buttons_nest_a_todo_under_the_one_above_and_back(alice, alice_client, inbox):
    create_todo(owner=alice, title="Pack")
    create_todo(owner=alice, title="Trip")
    html = page_of(alice_client, inbox)
    assert "make “Pack” a subtask of “Trip”" in html
    pack = Todo.objects.get(title="Pack")
    trip = Todo.objects.get(title="Trip")

    alice_client.post(f"/todos/{pack.pk}/move/", {"parent": trip.pk, "after": ""})
    html = page_of(alice_client, inbox)
    assert "Pack" in html.split('aria-label="Subtasks of “Trip”"')[1].split("</ol>")[0]
    assert "make “Pack” a todo of its own" in html

    alice_client.post(f"/todos/{pack.pk}/move/", {"after": trip.pk})
    assert shown_titles(page_of(alice_client, inbox)) == ["Trip", "Pack"]
