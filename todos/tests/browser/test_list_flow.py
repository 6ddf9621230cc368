"""A person with lists in Chromium: makes a list, adds todos and a subtask, drags one to a new
place, reloads and finds the order kept; and the same with JavaScript off, with the buttons."""

import re

import pytest
from playwright.sync_api import expect

from todos.tests.browser.conftest import PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def titles(page):
    return page.locator("#manual-list > li > ul .todo__title").all_inner_texts()


def item(page, title):
    """The list item whose own todo is this one (not one naming it in a button)."""
    own = page.locator("> ul .todo__title", has_text=re.compile(f"^{re.escape(title)}$"))
    return page.locator("#manual-list > li").filter(has=own)


def make_a_list_with_three_todos(page):
    page.goto("/")
    page.get_by_role("link", name="Your lists, in your order →").click()
    page.get_by_label("New list").fill("Trip")
    with page.expect_navigation():
        page.get_by_role("button", name="Add list").click()
    expect(page.get_by_role("heading", name="Trip", level=1)).to_be_visible()
    for title in ("Book flights", "Pack", "Water plants"):
        page.get_by_label("New todo").fill(title)
        with page.expect_navigation():
            page.get_by_role("button", name="Add todo").click()
    assert titles(page) == ["Water plants", "Pack", "Book flights"]


def test_a_user_makes_a_list_adds_a_subtask_and_drags_a_todo_to_a_new_place(
    alice, page, screenshot
):
    sign_in(page, "alice")
    make_a_list_with_three_todos(page)

    pack = item(page, "Pack")
    pack.get_by_text("Add a subtask").click()
    pack.get_by_label("Subtask").fill("Passport")
    with page.expect_navigation():
        pack.get_by_role("button", name="Add subtask").click()
    expect(page.locator('[aria-label="Subtasks of “Pack”"]')).to_contain_text("Passport")

    book = item(page, "Book flights")
    water = item(page, "Water plants")
    with page.expect_navigation():
        book.drag_to(water)
    assert titles(page) == ["Book flights", "Water plants", "Pack"]

    page.reload()
    assert titles(page) == ["Book flights", "Water plants", "Pack"]
    expect(page.locator('[aria-label="Subtasks of “Pack”"]')).to_contain_text("Passport")
    sidebar = page.locator(".sidebar__lists")
    expect(sidebar).to_contain_text(re.compile(r"Trip\s*4"))
    screenshot(page, "list-desktop", full_page=True)
    page.set_viewport_size(PHONE)
    screenshot(page, "list-phone", full_page=True)


def test_without_javascript_the_buttons_reorder_and_the_order_is_kept(alice, browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "alice")
        make_a_list_with_three_todos(page)

        with page.expect_navigation():
            page.locator("button", has_text="move “Water plants” down").click()
        assert titles(page) == ["Pack", "Water plants", "Book flights"]
        with page.expect_navigation():
            page.locator("button", has_text="move “Book flights” up").click()
        page.reload()
        assert titles(page) == ["Pack", "Book flights", "Water plants"]
    finally:
        context.close()
