"""Browser tests: Playwright for Python driving Debian's Chromium (bin/install-chromium) against
pytest-django's live server. Playwright's own browser download is never used."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import PASSWORD, make_user
from todos.tests.pages.conftest import grant_todo_admin

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")
def browser():
    # Playwright's sync API keeps an asyncio loop running on this thread while it is open, so
    # Django would refuse the tests' own (synchronous) ORM calls with SynchronousOnlyOperation.
    # They are safe: the loop only carries Playwright's messages and runs no Django code, and the
    # live server answers on its own threads. Allowed for this package only, then restored.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete …?" confirmations
    return page


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name, **options):
        page.screenshot(path=SCREENSHOTS / f"{name}.png", **options)

    return save


def sign_in(page, username, password=PASSWORD, path="/accounts/login/", button="Sign in"):
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    return page


def sign_in_to_admin(page, username, next_path="/admin/"):
    return sign_in(page, username, path=f"/admin/login/?next={next_path}", button="Log in")


@pytest.fixture
def todo_staff(transactional_db):
    return grant_todo_admin(make_user("sam", is_staff=True))
