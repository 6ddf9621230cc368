"""A person plans a day in Chromium, at desktop and phone widths: Today across lists, Upcoming by
day, a list sorted by due date, done todos folded into Completed, counts in the sidebar."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from todos.models import Priority
from todos.services import create_list, create_todo

from .conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_user_plans_with_today_upcoming_sorting_and_completed(alice, page, viewport, screenshot):
    today = timezone.localdate()  # the server's UTC date, which is alice's (no zone chosen)
    work = create_list(owner=alice, name="Work")
    create_todo(owner=alice, title="Pay rent", due_date=today - dt.timedelta(days=3))
    create_todo(owner=alice, title="Standup", list_id=work.pk, due_date=today)
    create_todo(
        owner=alice,
        title="Ship release",
        list_id=work.pk,
        due_date=today + dt.timedelta(days=2),
        priority=Priority.HIGH,
    )
    create_todo(owner=alice, title="Water plants", due_date=today + dt.timedelta(days=1))
    create_todo(owner=alice, title="Read a book")
    name = "desktop" if viewport is DESKTOP else "phone"
    page.set_viewport_size(viewport)
    sign_in(page, "alice")

    sidebar = page.locator("#sidebar")
    expect(sidebar.get_by_role("link", name="Today")).to_be_visible()
    sidebar.get_by_role("link", name="Today").click()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    overdue = page.get_by_role("region", name="Overdue")
    expect(overdue.locator(".todo__title")).to_have_text(["Pay rent"])
    expect(overdue).to_contain_text("Inbox")
    expect(page.get_by_role("region", name="Due today").locator(".todo__title")).to_have_text(
        ["Standup"]
    )
    screenshot(page, f"today-{name}", full_page=True)

    page.locator("#sidebar").get_by_role("link", name="Upcoming").click()
    tomorrow = page.get_by_role("region", name="Tomorrow")
    expect(tomorrow.locator(".todo__title")).to_have_text(["Water plants"])
    in_two_days = today + dt.timedelta(days=2)
    day_after = page.get_by_role(
        "region", name=f"{in_two_days:%a, %b} {in_two_days.day}", exact=True
    )
    expect(day_after.locator(".todo__title")).to_have_text(["Ship release"])
    screenshot(page, f"upcoming-{name}", full_page=True)

    page.locator("#sidebar").get_by_role("link", name="Inbox").click()
    expect(page.locator("#manual-list .todo__title")).to_have_text(
        ["Read a book", "Water plants", "Pay rent"]
    )
    page.get_by_role("navigation", name="Sort").get_by_role("link", name="Due date").click()
    expect(page).to_have_url("/?order=due")
    expect(page.locator(".manual-list .todo__title")).to_have_text(
        ["Pay rent", "Water plants", "Read a book"]
    )

    page.get_by_role("button", name="Mark “Pay rent” done").click()
    expect(page.get_by_role("status")).to_contain_text("Marked “Pay rent” done.")
    page.reload()
    expect(page.locator(".manual-list .todo__title")).to_have_text(["Water plants", "Read a book"])
    completed = page.locator("details.completed")
    expect(completed.locator(".todo__title")).not_to_be_visible()  # folded
    completed.locator("summary").click()
    expect(completed.locator(".todo__title")).to_have_text(["Done: Pay rent"])
    expect(page.locator("#sidebar").get_by_role("link", name="Today")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"inbox-sorted-{name}", full_page=True)
