"""A person with lists in Chromium: makes a list, adds todos and a subtask, drags one to a new
place, reloads and finds the order kept; and the same with JavaScript off, with the buttons."""

import re

import pytest
from playwright.sync_api import expect

from todos.tests.browser.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def titles(page):
    return page.locator("#manual-list > li > ul .todo__title").all_inner_texts()


def item(page, title):
    """The list item whose own todo is this one (not one naming it in a button), a subtask's
    included."""
    own = page.locator("> ul .todo__title", has_text=re.compile(f"^{re.escape(title)}$"))
    return page.locator("#manual-list .manual-item").filter(has=own)


def subtasks_of(page, title):
    return page.locator(f'[aria-label="Subtasks of “{title}”"] .todo__title').all_inner_texts()


def open_moves_by_keyboard(page, title):
    summary = item(page, title).locator("> details.move-menu > summary")
    summary.focus()
    page.keyboard.press("Enter")


def tab_to(page, target, most=10):
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError("Tab never reached it")


def drag(page, title, onto, where):
    """Drag one todo onto the top ("before"), middle ("into") or bottom ("after") of another's
    row, and wait for the page to show what the server now holds."""
    row = item(page, onto).locator("> ul > li.todo")
    box = row.bounding_box()
    y = {"before": 0.1, "into": 0.5, "after": 0.9}[where] * box["height"]
    with page.expect_navigation():
        item(page, title).locator("> ul > li.todo").drag_to(
            row, target_position={"x": box["width"] / 2, "y": y}
        )


def make_a_list_with_three_todos(page):
    page.goto("/")
    page.get_by_label("New list").fill("Trip")
    with page.expect_navigation():
        page.get_by_role("button", name="Add list").click()
    expect(page.get_by_role("heading", name="Trip", level=1)).to_be_visible()
    for title in ("Book flights", "Pack", "Water plants"):
        page.get_by_label("New todo").fill(title)
        with page.expect_navigation():
            page.get_by_role("button", name="Add todo").click()
    assert titles(page) == ["Water plants", "Pack", "Book flights"]


# A desktop's and a phone's width, but tall: Playwright's mouse drag cannot scroll the page
# mid-drag, so both ends must be on screen (a person's drag scrolls near the window's edge; a touch
# user has the Up, Down, In and Out buttons, tested below too).
TALL_DESKTOP = {"width": DESKTOP["width"], "height": 1600}
TALL_PHONE = {"width": PHONE["width"], "height": 1600}


@pytest.mark.parametrize("viewport", [TALL_DESKTOP, TALL_PHONE], ids=["desktop", "phone"])
def test_a_user_makes_a_list_adds_a_subtask_and_drags_a_todo_to_a_new_place(
    alice, page, screenshot, viewport
):
    page.set_viewport_size(viewport)
    sign_in(page, "alice")
    make_a_list_with_three_todos(page)

    pack = item(page, "Pack")
    pack.get_by_text("Add a subtask").click()
    pack.get_by_label("Subtask").fill("Passport")
    with page.expect_navigation():
        pack.get_by_role("button", name="Add subtask").click()
    expect(page.locator('[aria-label="Subtasks of “Pack”"]')).to_contain_text("Passport")

    drag(page, "Book flights", onto="Water plants", where="before")
    assert titles(page) == ["Book flights", "Water plants", "Pack"]
    expect(page.get_by_role("status")).to_contain_text("Moved “Book flights”.")

    # Dropped on the middle of a todo, it becomes its last subtask.
    drag(page, "Water plants", onto="Pack", where="into")
    assert titles(page) == ["Book flights", "Pack"]
    assert subtasks_of(page, "Pack") == ["Passport", "Water plants"]

    # A subtask dropped below a top-level todo leaves its parent and goes after that todo.
    drag(page, "Passport", onto="Book flights", where="after")
    assert titles(page) == ["Book flights", "Passport", "Pack"]
    assert subtasks_of(page, "Pack") == ["Water plants"]

    page.reload()
    assert titles(page) == ["Book flights", "Passport", "Pack"]
    assert subtasks_of(page, "Pack") == ["Water plants"]
    sidebar = page.locator(".sidebar__lists").last
    expect(sidebar).to_contain_text(re.compile(r"Trip\s*4 open"))
    # The same nesting without a mouse: the Move menu's In and Out take the keyboard.
    open_moves_by_keyboard(page, "Passport")
    tab_to(
        page,
        item(page, "Passport").get_by_role(
            "button", name="make “Passport” a subtask of “Book flights”"
        ),
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert subtasks_of(page, "Book flights") == ["Passport"]
    open_moves_by_keyboard(page, "Passport")
    tab_to(
        page, item(page, "Passport").get_by_role("button", name="make “Passport” a todo of its own")
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert titles(page) == ["Book flights", "Passport", "Pack"]
    name = "desktop" if viewport is TALL_DESKTOP else "phone"
    screenshot(page, f"list-{name}", full_page=True)


def test_without_javascript_the_buttons_reorder_and_the_order_is_kept(alice, browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "alice")
        make_a_list_with_three_todos(page)

        item(page, "Water plants").locator("> details.move-menu > summary").click()
        with page.expect_navigation():
            page.locator("button", has_text="move “Water plants” down").click()
        assert titles(page) == ["Pack", "Water plants", "Book flights"]
        item(page, "Book flights").locator("> details.move-menu > summary").click()
        with page.expect_navigation():
            page.locator("button", has_text="move “Book flights” up").click()
        page.reload()
        assert titles(page) == ["Pack", "Book flights", "Water plants"]
    finally:
        context.close()
