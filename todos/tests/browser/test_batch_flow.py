"""A person in Chromium checks a range of todos with shift-click and marks them done in one go,
then deletes two after confirming; on a list's page, moves two to another list at once."""

import pytest
from playwright.sync_api import expect

from todos.services import create_list, create_todo
from todos.tests.browser.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_shift_click_checks_a_range_then_one_batch_marks_them_done(alice, page):
    for n in range(1, 6):
        create_todo(owner=alice, title=f"todo {n}")
    sign_in(page, "alice")
    page.goto("/todos/")

    page.get_by_label("Select “todo 5”").click()
    page.get_by_label("Select “todo 2”").click(modifiers=["Shift"])
    for n in (5, 4, 3, 2):
        expect(page.get_by_label(f"Select “todo {n}”")).to_be_checked()
    expect(page.get_by_label("Select “todo 1”")).not_to_be_checked()

    with page.expect_navigation():
        page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_text("Marked 4 todos done.")).to_be_visible()
    expect(page.locator(".todo--done")).to_have_count(4)

    page.get_by_label("Select “todo 1”").click()
    page.get_by_label("Select “todo 2”").click()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Delete…").click()
    expect(page.get_by_text("Deleted 2 todos.")).to_be_visible()
    expect(page.locator(".todo")).to_have_count(3)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_on_a_list_page_checked_todos_move_to_another_list_in_one_batch(alice, page, viewport):
    trip, home = create_list(owner=alice, name="Trip"), create_list(owner=alice, name="Home")
    for title in ("Book flights", "Pack", "Water plants"):
        create_todo(owner=alice, title=title, list_id=trip.pk)
    page.set_viewport_size(viewport)
    sign_in(page, "alice")
    page.goto(trip.get_absolute_url())

    page.get_by_label("Select “Water plants”").click()
    page.get_by_label("Select “Pack”").click(modifiers=["Shift"])
    page.get_by_label("List to move them to").select_option(label="Home")
    with page.expect_navigation():
        page.get_by_role("button", name="Move to list").click()

    expect(page.get_by_text("Moved 2 todos to Home.")).to_be_visible()
    expect(page.locator("li.todo")).to_have_count(1)
    expect(page.locator("li.todo")).to_contain_text("Book flights")
    page.goto(home.get_absolute_url())
    expect(page.locator("li.todo .todo__title")).to_have_text(["Water plants", "Pack"])
