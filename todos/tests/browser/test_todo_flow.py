import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from todos.models import Priority, Todo
from todos.services import create_todo

from .conftest import PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def row(page, title):
    """The list item of one todo; a done todo's link reads "Done: <title>" to screen readers."""
    name = re.compile(rf"^(Done: )?{re.escape(title)}$")
    return page.locator("li.todo").filter(has=page.get_by_role("link", name=name))


def add_todo(page, title, priority="Medium", due=None, notes=None):
    page.get_by_label("New todo").fill(title)
    page.get_by_label("Priority", exact=True).first.select_option(label=priority)
    if due:
        page.get_by_label("Due (optional)").fill(due.isoformat())
    if notes:
        page.get_by_text("Add a description").click()
        page.get_by_label("Description").fill(notes)
    page.get_by_role("button", name="Add todo").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added “{title}”.")


def test_a_user_creates_filters_completes_edits_and_deletes_todos(alice, page, screenshot):
    sign_in(page, "alice")
    page.get_by_role("link", name="All todos").click()
    expect(page.get_by_role("heading", name="Nothing to do yet")).to_be_visible()

    # Three days back: overdue and shown as a date, also in a browser a few hours from UTC and
    # across midnight.
    due = timezone.localdate() - dt.timedelta(days=3)
    add_todo(page, "Pay rent", priority="High", due=due, notes="Transfer before noon")
    add_todo(page, "Buy milk", priority="Low")
    add_todo(page, "Call mum")
    expect(page.locator("li.todo")).to_have_count(3)
    year = f", {due.year}" if due.year != timezone.localdate().year else ""
    expect(row(page, "Pay rent")).to_contain_text(f"Overdue · was due {due:%b} {due.day}{year}")
    expect(row(page, "Pay rent")).to_contain_text("High priority")
    expect(row(page, "Pay rent")).to_have_class("todo todo--overdue todo--high")

    # Filter with the form; the query string carries the API's parameter names.
    page.get_by_text("Filters").click()  # folded behind one button
    page.get_by_label("Priority", exact=True).last.select_option("high")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page).to_have_url("/todos/?priority=high")  # no empty keys
    expect(page.locator("li.todo")).to_have_count(1)
    page.get_by_role("link", name="Clear").click()
    expect(page.locator("li.todo")).to_have_count(3)

    # Mark done: the script swaps the row in place, no page load.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Mark “Buy milk” done").click()
    expect(page.get_by_role("status")).to_contain_text("Marked “Buy milk” done.")
    expect(row(page, "Buy milk")).to_have_class("todo todo--done")
    expect(page.get_by_role("button", name="Mark “Buy milk” not done")).to_be_focused()
    assert page.evaluate("window.stillTheSamePage") is True
    assert Todo.objects.get(title="Buy milk").completed

    page.goto("/todos/?completed=true")
    expect(page.locator("li.todo")).to_have_count(1)
    expect(row(page, "Buy milk")).to_be_visible()
    page.goto("/todos/")

    # Edit.
    page.get_by_role("link", name="Call mum", exact=True).click()
    expect(page.get_by_role("heading", name="Edit todo")).to_be_visible()
    page.get_by_label("Title").fill("   ")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_title_error")).to_have_text("This field is required.")
    page.get_by_label("Title").fill("Call mum tonight")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved “Call mum tonight”.")
    expect(row(page, "Call mum tonight")).to_be_visible()

    # Delete: at once with JavaScript, with an Undo in the message.
    row(page, "Call mum tonight").get_by_role("button", name="Delete “Call mum tonight”").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted “Call mum tonight”.")
    expect(page.locator("li.todo")).to_have_count(2)
    assert not Todo.objects.filter(title="Call mum tonight").exists()


def test_everything_works_without_javascript(alice, browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    create_todo(owner=alice, title="Water plants")
    sign_in(page, "alice")

    page.get_by_role("button", name="Mark “Water plants” done").click()
    expect(page.get_by_role("status")).to_contain_text("Marked “Water plants” done.")
    expect(page.locator("#manual-list")).to_have_count(0)  # folded into Completed
    page.get_by_text("Completed").click()
    expect(row(page, "Water plants")).to_have_class("todo todo--done")
    row(page, "Water plants").get_by_role("button", name="Delete “Water plants”").click()
    expect(page.get_by_role("heading", name="Delete “Water plants”?")).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted “Water plants”.")
    expect(page.get_by_role("heading", name="Nothing in Inbox yet")).to_be_visible()
    context.close()


def test_another_users_todo_is_not_found(alice, bob, page):
    secret = create_todo(owner=alice, title="Alice's secret")
    sign_in(page, "bob")

    response = page.goto(secret.get_absolute_url())

    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("Alice's secret")).to_have_count(0)


def test_the_list_page_at_desktop_and_phone_widths(alice, page, screenshot):
    today = timezone.localdate()
    for title, fields in [
        ("Renew passport", {"due_date": today + dt.timedelta(days=30)}),
        ("Buy milk", {"priority": Priority.LOW, "completed": True}),
        ("Book dentist appointment", {"description": "Ask about the Tuesday slots"}),
        ("Call the plumber about the kitchen sink", {"due_date": today}),
        ("Send the quarterly report", {"priority": Priority.HIGH, "due_date": today}),
        ("Pay rent", {"priority": Priority.HIGH, "due_date": today - dt.timedelta(days=2)}),
    ]:
        create_todo(owner=alice, title=title, **fields)
    sign_in(page, "alice")
    expect(page.locator("li.todo")).to_have_count(6)
    screenshot(page, "list-desktop", full_page=True)

    page.set_viewport_size(PHONE)
    page.reload()
    screenshot(page, "list-phone", full_page=True)
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_keyboard_reaches_the_done_button_with_a_visible_focus(alice, page):
    create_todo(owner=alice, title="Tab to me")
    sign_in(page, "alice")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    button = page.get_by_role("button", name="Mark “Tab to me” done")
    for _ in range(50):  # past the search box, the filters and the batch form
        page.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    expect(button).to_be_focused()
    assert button.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Marked “Tab to me” done.")
