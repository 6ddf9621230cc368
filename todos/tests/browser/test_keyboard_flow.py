"""The keyboard alone, in Chromium at desktop and phone widths: a skip link to the list,
shortcuts that move, complete and edit (never while typing), ? lists them, a visible focus."""

import pytest
from playwright.sync_api import expect

from todos.models import Todo
from todos.services import create_todo

from .conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def focused_title(page):
    return page.evaluate("document.activeElement.dataset.title")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_user_runs_the_list_from_the_keyboard(alice, page, viewport, screenshot):
    for title in ("Pay rent", "Call mum", "Water plants"):
        create_todo(owner=alice, title=title)
    page.set_viewport_size(viewport)
    sign_in(page, "alice")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the list")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("j")
    assert focused_title(page) == "Water plants"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert focused_title(page) == "Pay rent"
    page.keyboard.press("k")
    assert focused_title(page) == "Call mum"

    page.keyboard.press("x")
    expect(page.get_by_role("status")).to_contain_text("Marked “Call mum” done.")
    assert Todo.objects.get(title="Call mum").completed

    # Inline edit: Escape leaves it as it was, Enter saves.
    page.keyboard.press("e")
    field = page.get_by_role("textbox", name="Title of “Call mum”")
    expect(field).to_be_focused()
    field.fill("Call dad")
    page.keyboard.press("Escape")
    expect(page.locator(".todo__title", has_text="Call mum")).to_be_focused()
    page.keyboard.press("e")
    page.get_by_role("textbox", name="Title of “Call mum”").fill("Call mum and dad")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Renamed to “Call mum and dad”.")
    expect(page.locator(".todo__title", has_text="Call mum and dad")).to_be_focused()
    assert Todo.objects.filter(title="Call mum and dad").exists()

    # q to the add field; there, letters are letters.
    page.keyboard.press("q")
    add = page.get_by_label("New todo")
    expect(add).to_be_focused()
    page.keyboard.type("jk x?")
    expect(add).to_have_value("jk x?")
    expect(page.locator("#shortcuts")).not_to_be_visible()
    add.fill("")

    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    screenshot(page, f"shortcuts-{'desktop' if viewport is DESKTOP else 'phone'}")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_an_empty_title_in_the_inline_edit_is_refused_and_nothing_changes(alice, page):
    create_todo(owner=alice, title="Pay rent")
    sign_in(page, "alice")
    page.locator(".todo__title", has_text="Pay rent").focus()
    page.keyboard.press("e")
    field = page.get_by_role("textbox", name="Title of “Pay rent”")
    field.fill("   ")
    page.keyboard.press("Enter")
    expect(field).to_be_focused()
    assert field.evaluate("el => el.validationMessage") == "This field is required."
    assert Todo.objects.get().title == "Pay rent"
