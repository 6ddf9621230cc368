import datetime as dt
import re

import pytest
from django.utils import timezone

from todos.models import Priority, Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


def titles(response):
    html = response.content.decode()
    return re.findall(r'class="todo__title"[^>]*>(?:<span[^>]*>Done: </span>)?([^<]+)</a>', html)


def test_anonymous_visitors_go_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_it_lists_only_the_users_own_todos_newest_first(alice, bob, alice_client):
    for title in ("first", "second", "third"):
        create_todo(owner=alice, title=title)
    create_todo(owner=bob, title="bob's secret")

    response = alice_client.get("/todos/")

    assert response.status_code == 200
    assert titles(response) == ["third", "second", "first"]
    assert "bob&#x27;s secret" not in response.content.decode()


def test_it_filters_by_completed_and_priority_with_the_apis_parameter_names(alice, alice_client):
    create_todo(owner=alice, title="open high", priority=Priority.HIGH)
    create_todo(owner=alice, title="done high", priority=Priority.HIGH, completed=True)
    create_todo(owner=alice, title="open low", priority=Priority.LOW)

    assert titles(alice_client.get("/todos/?completed=true")) == ["done high"]
    assert titles(alice_client.get("/todos/?completed=false&priority=high")) == ["open high"]
    assert titles(alice_client.get("/todos/?priority=low")) == ["open low"]
    # The filter form sends empty values for "any": the same page without them.
    response = alice_client.get("/todos/?completed=&priority=high&due_before=&due_after=")
    assert response.status_code == 302
    assert response["Location"] == "/todos/?priority=high"
    assert alice_client.get("/todos/?completed=&priority=")["Location"] == "/todos/"
    everything = alice_client.get("/todos/?completed=&due_before=", follow=True)
    assert len(titles(everything)) == 3


def test_it_filters_by_due_dates(alice, alice_client):
    for day in (1, 10, 20):
        create_todo(owner=alice, title=f"day {day}", due_date=dt.date(2027, 1, day))

    response = alice_client.get("/todos/?due_after=2027-01-01&due_before=2027-01-20")

    assert titles(response) == ["day 10"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("completed=maybe", "Status: Must be a valid boolean."),
        ("priority=urgent", "Priority: &quot;urgent&quot; is not a valid choice."),
        ("due_before=2027-02-30", "Due before: Date has wrong format."),
        ("page_size=0", "Page size: Must be a whole number from 1 to 100."),
        ("cursor=garbage", "Cursor: Invalid cursor."),
    ],
)
def test_bad_query_parameters_get_a_clear_message_not_a_500(alice, alice_client, query, message):
    create_todo(owner=alice, title="still here")

    response = alice_client.get(f"/todos/?{query}")

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_bad_filter_does_not_hide_the_good_ones(alice, alice_client):
    create_todo(owner=alice, title="high", priority=Priority.HIGH)
    create_todo(owner=alice, title="low", priority=Priority.LOW)

    response = alice_client.get("/todos/?priority=high&completed=maybe")

    assert response.status_code == 400
    assert titles(response) == ["high"]


def test_a_new_user_sees_a_helpful_empty_state(alice_client):
    html = alice_client.get("/todos/").content.decode()
    assert "Nothing to do yet" in html
    assert "Add your first todo" in html


def test_filters_that_match_nothing_say_so_and_offer_a_way_back(alice, alice_client):
    create_todo(owner=alice, title="open")
    html = alice_client.get("/todos/?completed=true").content.decode()
    assert "No todos match these filters" in html
    assert "show all your todos" in html


def test_overdue_and_high_priority_todos_stand_out(alice, alice_client):
    # Three days back: overdue and shown as a date, whatever the hour (a day back would read
    # "today" or "2 days ago" once midnight passed during the test).
    due = timezone.localdate() - dt.timedelta(days=3)
    late = create_todo(owner=alice, title="late", due_date=due)
    urgent = create_todo(owner=alice, title="urgent", priority=Priority.HIGH)
    calm = create_todo(owner=alice, title="calm", priority=Priority.LOW)

    html = alice_client.get("/todos/").content.decode()

    def row_classes(todo):
        return re.search(rf'<li class="([^"]+)" id="todo-{todo.pk}"', html).group(1).split()

    assert "todo--overdue" in row_classes(late)
    year = f", {due.year}" if due.year != timezone.localdate().year else ""
    assert f"Overdue · was due {due:%b} {due.day}{year}" in html
    assert "todo--high" in row_classes(urgent)
    assert "High priority" in html
    assert not {"todo--overdue", "todo--high"} & set(row_classes(calm))


def test_pages_walk_every_todo_once_by_cursor(alice, alice_client):
    Todo.objects.bulk_create(Todo(owner=alice, title=f"todo {i:02}") for i in range(45))

    seen, url, pages = [], "/todos/", 0
    while url:
        response = alice_client.get(url)
        seen += titles(response)
        pages += 1
        match = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
        url = match and match.group(1).replace("&amp;", "&")

    assert pages == 3
    assert sorted(seen) == [f"todo {i:02}" for i in range(45)]
    assert "OFFSET" not in str(Todo.objects.for_owner(alice).newest_first()[:20].query)


def test_the_newer_link_goes_back_a_page(alice, alice_client):
    Todo.objects.bulk_create(Todo(owner=alice, title=f"todo {i:02}") for i in range(25))
    first = alice_client.get("/todos/")
    older = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1)
    second = alice_client.get(older.replace("&amp;", "&"))
    newer = re.search(r'href="([^"]+)" rel="prev"', second.content.decode()).group(1)

    assert titles(alice_client.get(newer.replace("&amp;", "&"))) == titles(first)


def test_every_form_on_the_list_carries_a_csrf_token(alice, alice_client):
    create_todo(owner=alice, title="one")
    html = alice_client.get("/todos/").content.decode()
    post_forms = re.findall(r'<form method="post".*?</form>', html, re.S)
    assert len(post_forms) == 5  # sign out, add, the batch, toggle, new list (delete asks first)
    assert all("csrfmiddlewaretoken" in form for form in post_forms)
