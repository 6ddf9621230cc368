"""Every page kind under the strict Content-Security-Policy, in Chromium: no violation reported
(as a securitypolicyviolation event or a console message), and the scripts still work."""

import re

import pytest
from playwright.sync_api import expect

from todos.services import create_todo

from .conftest import sign_in, sign_in_to_admin

pytestmark = pytest.mark.django_db(transaction=True)

# Runs before any script of the page (Playwright's init scripts are not subject to the CSP).
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(context):
    """A page that records CSP violations; `violations()` lists those seen so far."""
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def violations():
        page.wait_for_load_state("networkidle")
        return page.evaluate("window.cspViolations") + console

    page.violations = violations
    return page


def visit(page, path):
    response = page.goto(path)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return page


def test_the_violation_detector_sees_an_inline_style(alice, watched):
    visit(watched, "/accounts/login/")
    watched.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">')")
    watched.wait_for_function("window.cspViolations.length > 0")
    assert any(v.startswith("style-src") for v in watched.violations())


def test_the_pages_of_visitors_and_users(alice, watched):
    todo = create_todo(owner=alice, title="Water the plants")

    visit(watched, "/accounts/signup/")
    expect(watched.get_by_role("heading", name="Create your account")).to_be_visible()
    assert watched.violations() == []

    visit(watched, "/accounts/login/")
    sign_in(watched, "alice")
    expect(watched.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    assert watched.violations() == []

    # The list's script still works: done in place, no page load, the row swapped in.
    watched.evaluate("window.stillTheSamePage = true")
    watched.get_by_role("button", name="Mark “Water the plants” done").click()
    expect(watched.get_by_role("status")).to_contain_text("Marked “Water the plants” done.")
    assert watched.evaluate("window.stillTheSamePage") is True
    assert watched.violations() == []

    visit(watched, f"/todos/{todo.pk}/")
    expect(watched.get_by_role("heading", name="Edit todo")).to_be_visible()
    watched.get_by_role("button", name="Delete this todo").click()  # confirm() from app.js
    expect(watched.get_by_role("status")).to_contain_text("Deleted “Water the plants”.")
    assert watched.violations() == []

    visit(watched, "/nowhere/")
    assert watched.violations() == []


def test_the_admin_the_dashboard_and_the_api_docs(alice, todo_staff, watched):
    create_todo(owner=alice, title="Chore")
    sign_in_to_admin(watched, "sam", "/admin/todos/todo/")
    expect(watched.get_by_role("heading", name="Select todo to change")).to_be_visible()
    # The admin's own scripts: the action bar's counter follows the checkboxes.
    watched.get_by_role("checkbox", name="Select this object for an action - Chore").check()
    expect(watched.locator(".action-counter")).to_contain_text("1 of 1 selected")
    assert watched.violations() == []

    visit(watched, "/admin/")
    assert watched.violations() == []

    visit(watched, "/staff/pool/")
    counter = watched.locator('[data-stat="requests_num"]')
    first = counter.inner_text()
    expect(counter).not_to_have_text(first)  # redrawn by app.js
    assert watched.violations() == []
    bar = watched.locator(".meter__seg--busy").first
    assert float(bar.get_attribute("width").rstrip("%")) > 0
    assert bar.bounding_box()["width"] > 0  # drawn without a style attribute

    visit(watched, "/api/docs/")
    expect(watched.get_by_text("Todo service API").first).to_be_visible()  # Swagger UI ran
    expect(watched.locator(".opblock-summary-path").first).to_have_text(re.compile("^/api/"))
    assert watched.violations() == []
