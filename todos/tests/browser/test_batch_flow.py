"""A person in Chromium checks a range of todos with shift-click and marks them done in one go,
then deletes two after confirming."""

import pytest
from playwright.sync_api import expect

from todos.services import create_todo
from todos.tests.browser.conftest import sign_in

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
