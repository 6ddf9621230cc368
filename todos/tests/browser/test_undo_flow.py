"""Undo in Chromium: done, not done, delete and move each leave a message whose Undo puts things
back; with JavaScript the Undo goes after about 10 s (the page's clock is driven by the test),
without it a delete asks first and the Undo is a button in the next page's message."""

import pytest
from playwright.sync_api import expect

from todos.models import Todo
from todos.services import create_todo

from .conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def message(page):
    return page.locator("#messages .message")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_complete_delete_and_move_are_undone_from_the_message(alice, page, viewport, screenshot):
    for title in ("Pay rent", "Call mum", "Water plants"):
        create_todo(owner=alice, title=title)
    page.set_viewport_size(viewport)
    page.clock.install()
    sign_in(page, "alice")

    # Done in place, then undone.
    page.get_by_role("button", name="Mark “Call mum” done").click()
    expect(message(page)).to_contain_text("Marked “Call mum” done.")
    screenshot(page, f"undo-{'desktop' if viewport is DESKTOP else 'phone'}")
    message(page).get_by_role("button", name="Undo").click()
    expect(message(page)).to_contain_text("Undone.")
    assert not Todo.objects.get(title="Call mum").completed

    # Deleted at once (no dialog with JavaScript), then back.
    page.get_by_role("button", name="Delete “Pay rent”").click()
    expect(message(page)).to_contain_text("Deleted “Pay rent”.")
    expect(page.locator(".todo__title", has_text="Pay rent")).to_have_count(0)
    message(page).get_by_role("button", name="Undo").click()
    expect(page.locator(".todo__title", has_text="Pay rent")).to_have_count(1)

    # Moved down with the button, then back up.
    order = ["Water plants", "Call mum", "Pay rent"]
    expect(page.locator("#manual-list > li > ul .todo__title")).to_have_text(order)
    page.locator("details.move-menu > summary", has_text="“Water plants”").click()
    page.get_by_role("button", name="move “Water plants” down").click()
    expect(message(page)).to_contain_text("Moved “Water plants”.")
    message(page).get_by_role("button", name="Undo").click()
    expect(page.locator("#manual-list > li > ul .todo__title")).to_have_text(order)

    # The Undo goes after about 10 s.
    page.get_by_role("button", name="Mark “Water plants” done").click()
    expect(message(page).get_by_role("button", name="Undo")).to_be_visible()
    page.clock.fast_forward(9_000)
    expect(message(page).get_by_role("button", name="Undo")).to_be_visible()
    page.clock.fast_forward(2_000)
    expect(message(page).get_by_role("button", name="Undo")).to_have_count(0)
    expect(message(page)).to_contain_text("Marked “Water plants” done.")


def test_without_javascript_delete_asks_first_and_undo_is_in_the_message(
    alice, browser, live_server
):
    create_todo(owner=alice, title="Pay rent")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "alice")
        page.get_by_role("button", name="Delete “Pay rent”").click()
        expect(page.get_by_role("heading", name="Delete “Pay rent”?")).to_be_visible()
        page.get_by_role("link", name="Keep it").click()
        assert Todo.objects.filter(title="Pay rent").exists()

        page.get_by_role("button", name="Delete “Pay rent”").click()
        page.get_by_role("button", name="Delete", exact=True).click()
        expect(message(page)).to_contain_text("Deleted “Pay rent”.")
        assert not Todo.objects.exists()
        message(page).get_by_role("button", name="Undo").click()
        expect(message(page)).to_contain_text("Undone.")
        expect(page.locator(".todo__title", has_text="Pay rent")).to_be_visible()
    finally:
        context.close()
