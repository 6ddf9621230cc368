import re

import pytest
from playwright.sync_api import expect

from todos.models import Todo
from todos.services import create_todo

from .conftest import sign_in_to_admin

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_mark_todos_completed_with_the_admin_action(alice, todo_staff, page):
    picked = [create_todo(owner=alice, title=f"Chore {i}") for i in range(3)]
    create_todo(owner=alice, title="Not this one")
    sign_in_to_admin(page, "sam", "/admin/todos/todo/")
    expect(page.get_by_role("heading", name="Select todo to change")).to_be_visible()

    for todo in picked:
        page.get_by_role(
            "checkbox", name=f"Select this object for an action - {todo.title}"
        ).check()
    page.locator("select[name=action]").select_option("mark_completed")
    page.get_by_role("button", name="Go").click()

    expect(page.locator("ul.messagelist")).to_contain_text("Marked 3 todos completed.")
    assert set(Todo.objects.filter(completed=True).values_list("title", flat=True)) == {
        "Chore 0",
        "Chore 1",
        "Chore 2",
    }


def test_the_pool_dashboard_shows_live_numbers(todo_staff, page, screenshot):
    sign_in_to_admin(page, "sam")
    page.get_by_role("link", name="Connection pool dashboard").click()

    expect(page.get_by_role("heading", name="Connection pool")).to_be_visible()
    for stat in ("pid", "in_use", "idle", "requests_waiting", "current_connections"):
        expect(page.locator(f'[data-stat="{stat}"]')).to_have_text(re.compile(r"^\d+$"))
    # The request that drew the page held a connection while it counted.
    assert int(page.locator('[data-stat="in_use"]').inner_text()) >= 1
    assert int(page.locator('[data-stat="current_connections"]').inner_text()) >= 1

    # It redraws itself: the "requests" counter grows with each refresh.
    first = int(page.locator('[data-stat="requests_num"]').inner_text())
    expect(page.locator('[data-stat="requests_num"]')).not_to_have_text(str(first))
    screenshot(page, "pool-dashboard", full_page=True)
