"""Today (due today or overdue, across lists), Upcoming (the next 7 days by day), a list's
collapsed Completed section, and a list sorted by manual order, due date or newest."""

import datetime as dt
import html as html_module
import re

import pytest
import time_machine

from todos.models import Priority, UserSettings
from todos.services import create_list, create_todo

pytestmark = pytest.mark.django_db

# Thursday Dec 4, 2025, 20:00 UTC; in Tokyo already Friday Dec 5.
NOW = dt.datetime(2025, 12, 4, 20, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 12, 4)


def shown_titles(html):
    return [html_module.unescape(t) for t in _titles(html)]


def _titles(html):
    return re.findall(r'class="todo__title"[^>]*>(?:<span[^>]*>Done: </span>)?([^<]+)</a>', html)


def section(html, heading_id):
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_today_shows_overdue_and_due_today_across_lists_and_nothing_else(
    alice, alice_client, frozen
):
    work = create_list(owner=alice, name="Work")
    create_todo(owner=alice, title="Pay rent", due_date=TODAY - dt.timedelta(days=2))
    create_todo(owner=alice, title="Standup", list_id=work.pk, due_date=TODAY)
    create_todo(
        owner=alice, title="Report", list_id=work.pk, due_date=TODAY, priority=Priority.HIGH
    )
    create_todo(owner=alice, title="Tomorrow's", due_date=TODAY + dt.timedelta(days=1))
    create_todo(owner=alice, title="Done today", due_date=TODAY, completed=True)
    create_todo(owner=alice, title="Undated")

    html = alice_client.get("/today/").content.decode()

    assert shown_titles(section(html, "overdue-heading")) == ["Pay rent"]
    assert shown_titles(section(html, "today-heading")) == ["Report", "Standup"]  # high first
    assert '<a class="in-list" href="/lists/' in html  # each says its list
    assert re.search(
        r'href="/today/" aria-current="page">Today</a> <span class="count"[^>]*>3<', html
    )


def test_today_is_the_users_today(alice, alice_client, frozen):
    UserSettings.objects.create(user=alice, time_zone="Asia/Tokyo")  # already Dec 5 there
    create_todo(owner=alice, title="Friday's", due_date=TODAY + dt.timedelta(days=1))
    create_todo(owner=alice, title="Thursday's", due_date=TODAY)

    html = alice_client.get("/today/").content.decode()

    assert shown_titles(section(html, "overdue-heading")) == ["Thursday's"]
    assert shown_titles(section(html, "today-heading")) == ["Friday's"]


def test_upcoming_groups_the_next_seven_days_by_day(alice, alice_client, frozen):
    for days, title in [(0, "Today's"), (1, "Tomorrow's"), (6, "In six days"), (7, "A week on")]:
        create_todo(owner=alice, title=title, due_date=TODAY + dt.timedelta(days=days))
    create_todo(owner=alice, title="Late", due_date=TODAY - dt.timedelta(days=1))

    html = alice_client.get("/upcoming/").content.decode()

    headings = re.findall(r'<h2 id="day-\d+" class="day-heading">([^<]+)</h2>', html)
    assert headings == [
        "Thu, Dec 4 · Today",
        "Fri, Dec 5 · Tomorrow",
        "Sat, Dec 6",
        "Sun, Dec 7",
        "Mon, Dec 8",
        "Tue, Dec 9",
        "Wed, Dec 10",
    ]
    assert shown_titles(section(html, "day-1")) == ["Today's"]
    assert shown_titles(section(html, "day-2")) == ["Tomorrow's"]
    assert "Nothing due." in section(html, "day-3")
    assert shown_titles(section(html, "day-7")) == ["In six days"]
    assert "A week on" not in html
    assert "Late" not in html


def test_done_todos_go_to_a_collapsed_completed_section(alice, alice_client):
    create_todo(owner=alice, title="Open")
    create_todo(owner=alice, title="Finished", completed=True)

    html = alice_client.get("/").content.decode()

    main, completed = html.split('<details class="completed" id="completed">')
    assert shown_titles(main) == ["Open"]
    assert 'Completed <span class="count">1</span>' in completed
    assert shown_titles(completed.split("</details>")[0]) == ["Finished"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("position", ["Newest undated", "Due later", "Due soon"]),
        ("due", ["Due soon", "Due later", "Newest undated"]),
        ("newest", ["Newest undated", "Due later", "Due soon"]),
        ("bogus", ["Newest undated", "Due later", "Due soon"]),  # the manual order
    ],
)
def test_a_list_sorts_by_manual_order_due_date_or_newest(alice, alice_client, order, expected):
    soon = create_todo(owner=alice, title="Due soon", due_date=dt.date(2030, 1, 1))
    create_todo(owner=alice, title="Due later", due_date=dt.date(2030, 2, 1))
    create_todo(owner=alice, title="Newest undated")
    if order == "newest":  # manual order apart from creation order
        alice_client.post(f"/todos/{soon.pk}/move/", {"after": "", "next": "/"})
        expected = ["Newest undated", "Due later", "Due soon"]

    html = alice_client.get(f"/?order={order}").content.decode()

    assert shown_titles(html) == expected
    moves = "move “Due soon” up" in html or "move “Due soon” down" in html
    assert moves == (order in ("position", "bogus"))  # moves only in the manual order
