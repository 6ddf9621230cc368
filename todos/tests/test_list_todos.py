import datetime as dt

import pytest

from todos.models import Priority, Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


def titles(response):
    return [todo["title"] for todo in response.json()["results"]]


def test_it_lists_only_the_callers_todos_newest_first(alice, bob, alice_api):
    for title in ("first", "second", "third"):
        create_todo(owner=alice, title=title)
    create_todo(owner=bob, title="bob's")

    response = alice_api.get("/api/todo")

    assert response.status_code == 200
    assert titles(response) == ["third", "second", "first"]
    assert response.json()["next"] is None


def test_it_filters_by_completed_and_priority(alice, alice_api):
    create_todo(owner=alice, title="open high", priority=Priority.HIGH)
    create_todo(owner=alice, title="done high", priority=Priority.HIGH, completed=True)
    create_todo(owner=alice, title="open low", priority=Priority.LOW)

    assert titles(alice_api.get("/api/todo?completed=true")) == ["done high"]
    assert titles(alice_api.get("/api/todo?completed=false&priority=high")) == ["open high"]
    assert titles(alice_api.get("/api/todo?priority=low")) == ["open low"]


def test_it_filters_by_due_date_bounds(alice, alice_api):
    for day in (1, 10, 20):
        create_todo(owner=alice, title=f"day {day}", due_date=dt.date(2027, 1, day))
    create_todo(owner=alice, title="no date")

    assert titles(alice_api.get("/api/todo?due_before=2027-01-10")) == ["day 1"]
    assert titles(alice_api.get("/api/todo?due_after=2027-01-10")) == ["day 20"]
    assert titles(alice_api.get("/api/todo?due_after=2027-01-01&due_before=2027-01-20")) == [
        "day 10"
    ]


@pytest.mark.parametrize(
    "query",
    [
        "completed=maybe",
        "priority=urgent",
        "priority=3",
        "due_before=2027-02-30",
        "due_after=yesterday",
        "page_size=0",
        "page_size=101",
        "page_size=-1",
        "page_size=ten",
        "page_size=%C2%B2",
        "page_size=99999999999999999999999",
        "cursor=garbage",
        "cursor=cD1nYXJiYWdl",  # base64 of "p=garbage"
    ],
)
def test_bad_query_parameters_are_400(alice_api, query):
    response = alice_api.get(f"/api/todo?{query}")
    assert response.status_code == 400
    param = query.split("=")[0]
    assert param in response.json()


def test_cursor_pagination_walks_every_todo_once(alice, alice_api):
    Todo.objects.bulk_create(Todo(owner=alice, title=f"todo {i}") for i in range(45))

    seen, url, pages = [], "/api/todo?page_size=20", 0
    while url:
        body = alice_api.get(url).json()
        seen += [todo["id"] for todo in body["results"]]
        url, pages = body["next"], pages + 1

    assert pages == 3
    assert len(seen) == len(set(seen)) == 45
    assert seen == sorted(seen, reverse=True)


def test_the_previous_link_goes_back(alice, alice_api):
    Todo.objects.bulk_create(Todo(owner=alice, title=f"todo {i}") for i in range(5))
    first = alice_api.get("/api/todo?page_size=2").json()
    second = alice_api.get(first["next"]).json()
    back = alice_api.get(second["previous"]).json()
    assert back["results"] == first["results"]


def test_anonymous_callers_get_401(anon_api):
    assert anon_api.get("/api/todo").status_code == 401


def test_a_page_size_of_thousands_of_digits_is_400_not_500(alice_api):
    """int() refuses over 4300 digits with a ValueError; found by the hostile-input tests."""
    response = alice_api.get("/api/todo?page_size=" + "9" * 5000)
    assert response.status_code == 400
    assert "page_size" in response.json()


@pytest.mark.parametrize("query", ["completed=null", "completed=", "completed=NULL"])
def test_a_completed_filter_that_is_not_a_boolean_is_400_not_any(alice, alice_api, query):
    """These read as "any" before; found by schema fuzzing."""
    create_todo(owner=alice, title="x")
    response = alice_api.get(f"/api/todo?{query}")
    assert response.status_code == 400
    assert "completed" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "completed=true&completed=false",
        "priority=low&priority=high",
        "page_size=5&page_size=10",
        "cursor=a&cursor=b",
    ],
)
def test_a_list_parameter_given_twice_is_400(alice_api, query):
    """The last value silently won before; found by schema fuzzing."""
    response = alice_api.get(f"/api/todo?{query}")
    assert response.status_code == 400
    assert response.json() == {query.split("=")[0]: ["Give this parameter once."]}
