"""A person in Los Angeles late in the evening: their browser's zone is taken at signup, and
tomorrow's todo reads "tomorrow", not "today" (the server's clock is frozen where UTC has
already turned the day)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from playwright.sync_api import expect

from conftest import PASSWORD
from todos.models import UserSettings
from todos.services import create_todo

from .conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def late_evening_in_los_angeles():
    """06:30 UTC of a day after tomorrow: 22:30 (or 23:30 in summer) the evening before in Los
    Angeles. Ahead of the real clock, so the cookies the frozen server sets are not expired for
    the browser."""
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    return dt.datetime.combine(day, dt.time(6, 30), tzinfo=dt.UTC)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_browser_in_los_angeles_late_in_the_evening_sees_tomorrow_as_tomorrow(
    browser, live_server, viewport, screenshot
):
    now = late_evening_in_los_angeles()
    context = browser.new_context(
        base_url=live_server.url,
        viewport=viewport,
        timezone_id="America/Los_Angeles",
        locale="en-GB",  # a Briton in Los Angeles: day before month in quick add
    )
    page = context.new_page()
    try:
        with time_machine.travel(now, tick=True):
            page.goto("/accounts/signup/")
            page.get_by_label("Username").fill("lena")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_label("Password confirmation").fill(PASSWORD)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign up").click()
            lena = User.objects.get(username="lena")
            settings = UserSettings.objects.get(user=lena)
            assert (settings.time_zone, settings.locale) == ("America/Los_Angeles", "en-GB")

            create_todo(owner=lena, title="Dentist", due_date=now.date())  # today in UTC
            create_todo(owner=lena, title="Call mum", due_date=now.date() - dt.timedelta(days=1))
            page.reload()
            dentist = page.locator("li.todo", has_text="Dentist")
            expect(dentist).to_contain_text("Due tomorrow")
            call = page.locator("li.todo", has_text="Call mum")
            expect(call).to_contain_text("Due today")
            expect(call).not_to_contain_text("Overdue")
            name = "desktop" if viewport is DESKTOP else "phone"
            screenshot(page, f"time-zone-{name}")

            page.get_by_role("link", name="lena").click()
            expect(page.get_by_label("Time zone")).to_have_value("America/Los_Angeles")
            expect(page.get_by_label("Dates in quick add")).to_have_value("en-GB")
    finally:
        context.close()


def test_without_javascript_the_zone_is_chosen_on_the_account_page(alice, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, timezone_id="America/Los_Angeles"
    )
    page = context.new_page()
    try:
        now = late_evening_in_los_angeles()
        with time_machine.travel(now, tick=True):
            create_todo(owner=alice, title="Dentist", due_date=now.date())
            sign_in(page, "alice")  # no script: the zone stays UTC
            expect(page.locator("li.todo", has_text="Dentist")).to_contain_text("Due today")

            page.get_by_role("link", name="alice").click()
            page.get_by_label("Time zone").select_option("America/Los_Angeles")
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_role("status")).to_contain_text(
                "Your time zone is now America/Los_Angeles."
            )
            page.get_by_role("link", name="Back to your Inbox").click()
            expect(page.locator("li.todo", has_text="Dentist")).to_contain_text("Due tomorrow")
    finally:
        context.close()
