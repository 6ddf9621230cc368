"""GET /api/todo's list, parent and order: every order keyset-paged, its cursor carrying its
order; bulk create with a list and parent per item, all or nothing; two moves to one place at
the same moment both land there, with positions of their own."""

import datetime as dt
import threading

import pytest

from conftest import make_user
from todos.models import Todo, TodoList
from todos.services import create_list, create_todo, move_todo
from todos.tests.dbtools import connect, wait_for_blocked_backends

pytestmark = pytest.mark.django_db


def every_page(api, url):
    titles, pages = [], 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.json()
        titles += [todo["title"] for todo in response.json()["results"]]
        url, pages = response.json()["next"], pages + 1
    return titles, pages


def back_from(api, url):
    """Every title from the last page back to the first, through the previous links."""
    titles = []
    while url:
        page = api.get(url).json()
        titles = [todo["title"] for todo in page["results"]] + titles
        url = page["previous"]
    return titles


@pytest.fixture
def todos(alice):
    work = create_list(owner=alice, name="Work")
    due = [dt.date(2027, 1, 3), None, dt.date(2027, 1, 1), None, dt.date(2027, 1, 3)]
    for i, day in enumerate(due):
        create_todo(owner=alice, title=f"t{i}", due_date=day)
    parent = create_todo(owner=alice, title="parent")
    create_todo(owner=alice, title="sub", parent_id=parent.pk)
    create_todo(owner=alice, title="at work", list_id=work.pk)
    create_todo(owner=make_user("carol"), title="carol's")
    inbox = TodoList.objects.get(owner=alice, is_inbox=True)
    return {"inbox": inbox.pk, "work": work.pk, "parent": parent.pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["at work", "sub", "parent", "t4", "t3", "t2", "t1", "t0"]),
        ("list={work}", ["at work"]),
        ("list={inbox}&parent=none", ["parent", "t4", "t3", "t2", "t1", "t0"]),
        ("parent={parent}", ["sub"]),
        ("order=due&parent=none", ["t2", "t0", "t4", "t1", "t3", "parent", "at work"]),
        ("order=position&list={inbox}&parent=none", ["parent", "t4", "t3", "t2", "t1", "t0"]),
    ],
)
def test_every_order_pages_through_every_todo_once_both_ways(alice_api, todos, query, expected):
    url = "/api/todo?page_size=2&" + query.format(**todos)
    titles, pages = every_page(alice_api, url)
    assert titles == expected
    assert pages == (len(expected) + 1) // 2

    last = url
    while (following := alice_api.get(last).json()["next"]) is not None:
        last = following
    assert back_from(alice_api, last) == expected


def test_manual_order_follows_moves(alice, alice_api, todos):
    t0 = Todo.objects.get(title="t0")
    move_todo(owner=alice, pk=t0.pk, after=todos["parent"])
    url = f"/api/todo?order=position&list={todos['inbox']}&parent=none"
    assert every_page(alice_api, url)[0] == ["parent", "t0", "t4", "t3", "t2", "t1"]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("order=position", {"order": ["order=position needs the list and parent filters."]}),
        ("order=position&list=1", {"order": ["order=position needs the list and parent filters."]}),
        ("order=oldest", {"order": ['"oldest" is not a valid choice.']}),
        ("parent=nothing", {"parent": ["A todo id, or none."]}),
        ("parent=0", {"parent": ["A todo id, or none."]}),
        ("parent=99999999999999999999", {"parent": ["A todo id, or none."]}),
        ("list=0", {"list": ["Ensure this value is greater than or equal to 1."]}),
        ("list=1&list=2", {"list": ["Give this parameter once."]}),
    ],
)
def test_a_bad_list_parent_or_order_is_400(alice_api, query, errors):
    response = alice_api.get(f"/api/todo?{query}")
    assert response.status_code == 400
    assert response.json() == errors


def test_a_cursor_of_one_order_is_400_with_another(alice_api, todos):
    due_next = alice_api.get("/api/todo?order=due&page_size=1").json()["next"]
    cursor = due_next.split("cursor=")[1].split("&")[0]

    response = alice_api.get(f"/api/todo?order=newest&cursor={cursor}")

    assert response.status_code == 400
    assert response.json() == {"cursor": ["This cursor is of order=due."]}


def test_another_users_list_or_parent_lists_nothing(alice_api, bob):
    theirs = create_list(owner=bob, name="Theirs")
    parent = create_todo(owner=bob, title="theirs", list_id=theirs.pk)
    create_todo(owner=bob, title="sub", parent_id=parent.pk)

    for query in (f"list={theirs.pk}", f"parent={parent.pk}"):
        assert alice_api.get(f"/api/todo?{query}").json()["results"] == []


def test_bulk_create_takes_a_list_and_parent_per_item(alice, alice_api, todos):
    items = [
        {"title": "a", "list": todos["work"]},
        {"title": "b", "parent": todos["parent"]},
        {"title": "c"},
    ]
    response = alice_api.post("/api/todo/bulk", items, format="json")

    assert response.status_code == 201
    assert [(t["title"], t["list"], t["parent"]) for t in response.json()] == [
        ("a", todos["work"], None),
        ("b", todos["inbox"], todos["parent"]),
        ("c", todos["inbox"], None),
    ]


def test_bulk_items_keep_their_input_order_first_in_the_list(alice, alice_api, todos):
    items = [{"title": "x1"}, {"title": "x2"}, {"title": "x3"}]
    assert alice_api.post("/api/todo/bulk", items, format="json").status_code == 201
    url = f"/api/todo?order=position&list={todos['inbox']}&parent=none&page_size=4"
    titles = [t["title"] for t in alice_api.get(url).json()["results"]]
    assert titles == ["x1", "x2", "x3", "parent"]


def test_one_item_with_a_list_or_parent_not_yours_rejects_the_whole_batch(alice_api, bob, todos):
    theirs = create_list(owner=bob, name="Theirs")
    sub = Todo.objects.get(title="sub")
    count = Todo.objects.count()
    items = [
        {"title": "fine", "list": todos["work"]},
        {"title": "not mine", "list": theirs.pk},
        {"title": "fine too"},
        {"title": "too deep", "parent": sub.pk},
    ]

    response = alice_api.post("/api/todo/bulk", items, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "1": {"list": ["No list with this id."]},
        "3": {"parent": ["A subtask cannot have subtasks."]},
    }
    assert Todo.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_two_moves_to_the_same_place_at_once_both_land_there_in_a_stable_order(alice):
    _, second, a, b = (create_todo(owner=alice, title=t) for t in ("y", "x", "b", "a"))
    # Order now: a, b, x, y. Both a and b move to between x and y, at the same moment: the
    # test holds both rows locked, so both moves wait, and both go on when it lets go.
    holder = connect()
    holder.execute("SELECT 1 FROM todos WHERE id IN (%s, %s) FOR UPDATE", [a.pk, b.pk])
    errors = []

    def move(todo):
        try:
            move_todo(owner=alice, pk=todo.pk, after=second.pk)
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=move, args=(todo,)) for todo in (a, b)]
    for thread in threads:
        thread.start()
    with connect(autocommit=True) as watcher:
        wait_for_blocked_backends(watcher, 2)
    holder.commit()
    holder.close()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors

    inbox = TodoList.objects.get(owner=alice, is_inbox=True)
    ordered = list(Todo.objects.filter(list=inbox).in_position_order())
    titles = [todo.title for todo in ordered]
    assert (titles[0], titles[-1]) == ("x", "y")
    assert sorted(titles[1:3]) == ["a", "b"]
    assert len({todo.position for todo in ordered}) == 4
    again = [todo.title for todo in Todo.objects.filter(list=inbox).in_position_order()]
    assert again == titles
