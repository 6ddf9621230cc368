"""GET /api/todo?q=...: each word must start a word of the title or the description, ignoring
case, with every filter and order, keyset-paged."""

import datetime as dt
from urllib.parse import quote

import pytest
from django.db import connection

from todos import selectors
from todos.api.serializers import NO_WORD
from todos.models import Priority, Todo, TodoList
from todos.services import create_todo

pytestmark = pytest.mark.django_db


def titles(response):
    assert response.status_code == 200, response.json()
    return [todo["title"] for todo in response.json()["results"]]


def search(client, q, extra=""):
    return client.get(f"/api/todo?q={quote(q)}{extra}")


def every_page(client, url):
    found, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        found += [todo["title"] for todo in response.json()["results"]]
        url, pages = response.json()["next"], pages + 1
    return found, pages


@pytest.fixture
def groceries(alice):
    for title, description in [
        ("Buy milk", ""),
        ("Call the plumber", "about the Milk-tap in the kitchen"),
        ("Family dinner", "similar to last year"),
        ("Buy bread", "and MILK chocolate"),
    ]:
        create_todo(owner=alice, title=title, description=description)


def test_a_word_finds_todos_with_a_word_starting_so_ignoring_case(alice_api, groceries):
    assert titles(search(alice_api, "mil")) == ["Buy bread", "Call the plumber", "Buy milk"]
    assert titles(search(alice_api, "MILK")) == ["Buy bread", "Call the plumber", "Buy milk"]


def test_the_middle_of_a_word_is_not_a_match(alice_api, groceries):
    assert titles(search(alice_api, "ilk")) == []
    assert titles(search(alice_api, "ilar")) == []  # "similar" does not start with it


def test_every_word_must_match_in_the_title_or_the_description(alice_api, groceries):
    assert titles(search(alice_api, "buy milk")) == ["Buy bread", "Buy milk"]
    assert titles(search(alice_api, "  buy   choc ")) == ["Buy bread"]
    assert titles(search(alice_api, "buy plumber")) == []


def test_parts_of_a_hyphenated_word_are_words(alice_api, groceries):
    assert titles(search(alice_api, "tap")) == ["Call the plumber"]
    assert titles(search(alice_api, "milk-tap")) == ["Call the plumber"]


def test_another_users_todos_are_never_found(alice, bob_api, groceries):
    assert titles(search(bob_api, "milk")) == []


@pytest.mark.parametrize(
    "q",
    ["it's", "a&b", "(milk", "milk:*", "\\", "'", "!milk", "<->", "milk | bread", "é", "日本"],
)
def test_operators_and_quotes_in_words_are_only_text(alice, alice_api, q):
    create_todo(owner=alice, title="it's a&b (milk) é 日本")
    response = search(alice_api, q)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json() == {"q": [NO_WORD]}
    else:
        assert titles(response) in ([], ["it's a&b (milk) é 日本"])


def test_quotes_and_operators_are_searched_as_words(alice, alice_api):
    create_todo(owner=alice, title="it's a&b (milk)")
    assert titles(search(alice_api, "it's")) == ["it's a&b (milk)"]
    assert titles(search(alice_api, "(milk")) == ["it's a&b (milk)"]
    assert titles(search(alice_api, "milk | bread")) == []  # "|" is no word; bread is missing


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "This field may not be blank."),
        ("   ", "This field may not be blank."),
        ("x" * 201, "Ensure this field has no more than 200 characters."),
        ("!!! ---", "Give at least one word (letters or digits) to search for."),
    ],
)
def test_a_search_without_a_word_or_too_long_is_400(alice_api, q, message):
    response = search(alice_api, q)
    assert response.status_code == 400
    assert response.json() == {"q": [message]}


def test_q_given_twice_is_400(alice_api):
    response = alice_api.get("/api/todo?q=a&q=b")
    assert response.status_code == 400
    assert response.json() == {"q": ["Give this parameter once."]}


def test_a_search_combines_with_every_filter(alice, alice_api):
    work = TodoList.objects.create(owner=alice, name="Work")
    parent = create_todo(owner=alice, title="report parent", list_id=work.pk)
    create_todo(owner=alice, title="report sub", parent_id=parent.pk)
    create_todo(owner=alice, title="report high", priority=Priority.HIGH, completed=True)
    create_todo(owner=alice, title="report due", due_date=dt.date(2027, 5, 1))
    create_todo(owner=alice, title="other high", priority=Priority.HIGH)

    assert titles(search(alice_api, "rep", "&priority=high")) == ["report high"]
    assert titles(search(alice_api, "rep", "&completed=false&priority=high")) == []
    assert titles(search(alice_api, "rep", "&due_after=2027-01-01")) == ["report due"]
    assert titles(search(alice_api, "rep", f"&list={work.pk}")) == ["report sub", "report parent"]
    assert titles(search(alice_api, "rep", f"&list={work.pk}&parent=none")) == ["report parent"]
    assert titles(search(alice_api, "rep", f"&parent={parent.pk}")) == ["report sub"]


def test_a_search_in_each_order(alice, alice_api):
    work = TodoList.objects.create(owner=alice, name="Work")
    for day in (3, 1, 2):
        create_todo(
            owner=alice, title=f"plan day {day}", due_date=dt.date(2027, 1, day), list_id=work.pk
        )
    create_todo(owner=alice, title="plan undated", list_id=work.pk)
    create_todo(owner=alice, title="unrelated", list_id=work.pk, due_date=dt.date(2026, 1, 1))

    assert titles(search(alice_api, "plan", "&order=due")) == [
        "plan day 1",
        "plan day 2",
        "plan day 3",
        "plan undated",
    ]
    in_position = titles(search(alice_api, "plan", f"&order=position&list={work.pk}&parent=none"))
    assert in_position == ["plan undated", "plan day 2", "plan day 1", "plan day 3"]


@pytest.fixture
def small_window(monkeypatch):
    """A probe of 3 todos, so that a few todos take a search past it, as a million would."""
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)


@pytest.mark.parametrize("order", ["newest", "due"])
def test_pages_of_a_search_hold_every_match_once_whether_common_or_rare(
    alice, alice_api, small_window, order
):
    for n in range(30):
        title = f"item {n}" + (" rare" if n % 7 == 0 else "")
        create_todo(owner=alice, title=title, due_date=dt.date(2027, 1, 1 + n % 5))
    rare = {f"item {n} rare" for n in range(30) if n % 7 == 0}

    found, pages = every_page(alice_api, f"/api/todo?q=item&page_size=4&order={order}")
    assert sorted(found) == sorted(f"item {n}" + (" rare" if n % 7 == 0 else "") for n in range(30))
    assert pages == 8
    found, pages = every_page(alice_api, f"/api/todo?q=rare&page_size=2&order={order}")
    assert sorted(found) == sorted(rare)
    assert pages == 3

    first = alice_api.get(f"/api/todo?q=item&page_size=4&order={order}").json()
    second = alice_api.get(first["next"]).json()
    back = alice_api.get(second["previous"]).json()
    assert back["results"] == first["results"]


def test_a_todo_written_by_sql_alone_is_found(alice, alice_api):
    inbox = selectors.inbox_id(alice)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO todos (owner_id, list_id, position, title, description, priority,"
            " completed, created_at, updated_at)"
            " VALUES (%s, %s, 'a0V', 'Imported by SQL', 'from the old system', 2, false,"
            " now(), now())",
            [alice.pk, inbox],
        )
    assert titles(search(alice_api, "old sys")) == ["Imported by SQL"]


def test_a_huge_description_is_saved_and_its_start_is_found(alice, alice_api):
    description = "findme " + " ".join(f"w{n}" for n in range(400_000))
    response = alice_api.post(
        "/api/todo", {"title": "big", "description": description}, format="json"
    )
    assert response.status_code == 201
    assert titles(search(alice_api, "findme")) == ["big"]
    assert Todo.objects.get(title="big").description == description
