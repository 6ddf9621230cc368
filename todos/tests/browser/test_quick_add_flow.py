"""Quick add in Chromium, at desktop and phone widths: what the line says shows before it is
saved, the todo lands where it said, and the cursor is back in the field for the next one."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from todos.models import Priority, Todo
from todos.services import create_list

from .conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_user_adds_with_one_line_and_sees_what_was_understood_first(
    alice, page, viewport, screenshot
):
    create_list(owner=alice, name="Home")
    page.set_viewport_size(viewport)
    sign_in(page, "alice")

    field = page.get_by_label("New todo")
    field.fill("Pay rent tomorrow !high #home")
    preview = page.locator("#quick-add-preview")
    expect(preview).to_contain_text("“Pay rent”")
    expect(preview).to_contain_text("Due tomorrow")
    expect(preview).to_contain_text("High priority")
    expect(preview).to_contain_text("In Home")
    screenshot(page, f"quick-add-{'desktop' if viewport is DESKTOP else 'phone'}")
    assert not Todo.objects.exists()

    field.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Added “Pay rent” (due tomorrow")
    todo = Todo.objects.get()
    assert todo.due_date == timezone.localdate() + dt.timedelta(days=1)
    assert todo.priority == Priority.HIGH
    assert todo.list.name == "Home"

    # Focus is back in the field: the next one is typed straight away.
    expect(page.get_by_label("New todo")).to_be_focused()
    page.keyboard.type("call mum fri")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Added “call mum” (due ")
    expect(page.locator("#manual-list .todo__title")).to_have_text(["call mum"])

    # The full form is a click away.
    page.get_by_role("link", name="More options").click()
    expect(page.get_by_role("heading", name="New todo")).to_be_visible()
