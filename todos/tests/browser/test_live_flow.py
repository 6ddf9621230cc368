"""Two browser contexts of one person on the same list page: a change made in one (done, a new
todo, a delete) or anywhere else (a shell) shows in the other without a reload. The pages talk
to GET /api/events, which needs the ASGI server: a uvicorn of the tests' own (with the static
files) instead of pytest-django's WSGI live server."""

import asyncio
import re

import pytest
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from playwright.sync_api import expect

from conftest import make_user
from todos import events, services
from todos.tests.browser.conftest import DESKTOP, sign_in
from todos.tests.live import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def asgi_server(django_db_setup, django_db_blocker):
    from todoproject.asgi import application

    server = LiveServer(ASGIStaticFilesHandler(application))
    server.start()
    yield server
    with django_db_blocker.unblock():
        # Not server.stop(): the lane's pool may be the tests' other live server's (session
        # pages open none here), and is left to it.
        asyncio.run_coroutine_threadsafe(events.close(), server.loop).result(timeout=10)
        server.server.should_exit = True
        server.thread.join(timeout=10)


@pytest.fixture
def open_page(browser, asgi_server):
    contexts = []

    def open_(username, path):
        context = browser.new_context(base_url=asgi_server.url, viewport=DESKTOP)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, username)
        page.goto(path)
        # No wait for its stream: it starts from the page's own token, so nothing is missed.
        return page

    yield open_
    for context in contexts:
        context.close()


def row(page, title):
    return page.locator("li.todo").filter(
        has=page.locator(".todo__title", has_text=re.compile(f"^{re.escape(title)}$"))
    )


def test_a_change_in_one_tab_shows_in_the_other_without_a_reload(open_page):
    alice = make_user("alice")
    errands = services.create_list(owner=alice, name="Errands")
    milk = services.create_todo(owner=alice, title="Buy milk", list_id=errands.pk)
    path = f"/lists/{errands.pk}/"
    one, other = open_page("alice", path), open_page("alice", path)
    other.evaluate("() => { window.notReloaded = true; }")

    # Done in one: the other shows it done.
    row(one, "Buy milk").get_by_role("button", name="Mark “Buy milk” done").click()
    expect(other.locator(f"#todo-{milk.pk}")).to_have_class(re.compile(r"\btodo--done\b"))

    # A new todo in one: the other shows it.
    one.get_by_label("New todo").fill("Call the plumber")
    with one.expect_navigation():
        one.get_by_role("button", name="Add todo").click()
    expect(row(other, "Call the plumber")).to_be_visible()

    # A change made elsewhere (a shell, the API, the admin): both show it.
    plumber = alice.todos.get(title="Call the plumber")
    services.update_todo(owner=alice, pk=plumber.pk, title="Call the plumber today")
    expect(row(one, "Call the plumber today")).to_be_visible()
    expect(row(other, "Call the plumber today")).to_be_visible()

    # Deleted in one: gone from the other.
    row(one, "Call the plumber today").get_by_role(
        "button", name="Delete “Call the plumber today”"
    ).click()
    expect(other.locator(f"#todo-{plumber.pk}")).to_have_count(0)
    assert other.evaluate("() => window.notReloaded") is True
