"""At 390 px, each page kind: the todos come first, the add field stays pinned while the list
scrolls, the filters are folded behind one button, nothing scrolls sideways, and every control
is a touch target of at least 44 px."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from todos.models import Priority
from todos.services import create_list, create_todo

from .conftest import PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

# Controls a finger taps: every button, field, menu and navigation link (links inside running
# text are exempt, as WCAG 2.5.8 has it).
TARGETS = """
() => Array.from(document.querySelectorAll(
  "button, input:not([type=hidden]), select, summary, .sidebar__lists a, .sort a, .todo__title," +
  " .site-nav a, .brand, .quick-add__more, .to-sidebar a, .in-list"
)).filter(el => el.offsetParent !== null || getComputedStyle(el).position === "fixed")
  .map(el => ({el, box: el.getBoundingClientRect()}))
  .filter(({box}) => box.width > 0 && box.height > 0)
  .filter(({el, box}) => box.height < 43.5 || (el.matches("button, summary, input[type=checkbox]") && box.width < 43.5))
  .map(({el, box}) => `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`)
"""


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def day_of_todos(alice):
    today = timezone.localdate()
    work = create_list(owner=alice, name="Work")
    for n in range(12):
        create_todo(
            owner=alice, title=f"Errand number {n}", due_date=today + dt.timedelta(days=n % 8 - 1)
        )
    trip = create_todo(owner=alice, title="Plan the trip to Lisbon", priority=Priority.HIGH)
    create_todo(owner=alice, title="Passport", parent_id=trip.pk)
    create_todo(owner=alice, title="Quarterly report", list_id=work.pk, due_date=today)
    create_todo(owner=alice, title="Old thing", completed=True)
    return work


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/lists/work/",
        "/today/",
        "/upcoming/",
        "/todos/",
        "/todos/?q=errand",
        "/todos/new/",
        "/accounts/settings/",
    ],
)
def test_every_page_fits_a_phone_with_big_enough_targets(
    alice, day_of_todos, phone, path, screenshot
):
    sign_in(phone, "alice")
    phone.goto(path.replace("work", str(day_of_todos.pk)))
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.evaluate(TARGETS) == []
    name = path.strip("/").replace("/", "-").replace("work", "list").replace("?q=", "-search-")
    name = name or "inbox"
    screenshot(phone, f"phone-{name}")


def test_on_a_phone_the_list_comes_first_and_the_add_field_stays_pinned(alice, day_of_todos, phone):
    sign_in(phone, "alice")
    first = phone.locator("li.todo").first
    assert first.bounding_box()["y"] < PHONE["height"] / 2  # a todo in the first half screen
    sidebar = phone.locator("#sidebar").bounding_box()
    assert sidebar["y"] > phone.locator("li.todo").last.bounding_box()["y"]  # the sidebar after

    phone.evaluate("window.scrollTo(0, 2000)")
    assert phone.evaluate("window.scrollY") > 1000
    add = phone.get_by_label("New todo")
    box = add.bounding_box()
    assert 0 <= box["y"] < 120  # still at the top of the screen
    add.tap()
    expect(add).to_be_focused()


def test_on_a_phone_the_filters_are_folded_behind_one_button(alice, day_of_todos, phone):
    sign_in(phone, "alice")
    phone.goto("/todos/")
    expect(phone.get_by_label("Due after")).not_to_be_visible()
    expect(phone.get_by_role("navigation", name="Quick filters")).not_to_be_visible()
    phone.get_by_text("Filters").tap()
    expect(phone.get_by_label("Due after")).to_be_visible()
    phone.get_by_role("navigation", name="Quick filters").get_by_role(
        "link", name="High priority"
    ).tap()
    expect(phone).to_have_url("/todos/?completed=false&priority=high")
    expect(phone.locator("li.todo .todo__title")).to_have_text(["Plan the trip to Lisbon"])
    expect(phone.get_by_label("Due after")).to_be_visible()  # open while a filter is on


def test_on_a_phone_search_results_come_first_and_say_what_was_searched(alice, day_of_todos, phone):
    sign_in(phone, "alice")
    phone.goto("/todos/?q=errand")
    expect(phone.get_by_role("heading", name="Todos with “errand”")).to_be_in_viewport()
    expect(phone.get_by_label("Due after")).not_to_be_visible()
    first = phone.locator("li.todo").first
    expect(first).to_contain_text("Errand number")
    assert first.bounding_box()["y"] < PHONE["height"] / 2
