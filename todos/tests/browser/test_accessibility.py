"""axe-core (vendored, see vendor/README.md) run inside Chromium on each kind of page, at desktop
and phone widths: no serious or critical violation."""

from pathlib import Path

import pytest

from todos.services import create_list, create_todo

from .conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = """
async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)
"""


def violations(page):
    # Injected with the page's CSP bypassed (this context only): the policy allows no inline
    # script, and the CSP tests check the pages with it.
    page.add_script_tag(path=AXE)
    return page.evaluate(SERIOUS)


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def axe_page(request, browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=request.param, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def test_the_visitors_pages_have_no_serious_violations(axe_page):
    found = {}
    for path in ("/accounts/login/", "/accounts/signup/", "/nowhere/"):
        axe_page.goto(path)
        found[path] = violations(axe_page)
    assert found == {path: [] for path in found}


def test_the_users_pages_have_no_serious_violations(alice, axe_page):
    work = create_list(owner=alice, name="Work")
    trip = create_todo(owner=alice, title="Plan the trip", description="Lisbon in May")
    create_todo(owner=alice, title="Passport", parent_id=trip.pk)
    create_todo(owner=alice, title="Done already", completed=True)
    create_todo(owner=alice, title="Standup", list_id=work.pk)
    sign_in(axe_page, "alice")

    found = {}
    for path in (
        "/",
        f"/lists/{work.pk}/",
        "/?order=due",
        "/today/",
        "/upcoming/",
        "/todos/",
        "/todos/?priority=high",
        "/todos/new/",
        f"/todos/{trip.pk}/",
        f"/todos/{trip.pk}/delete/",
        f"/lists/{work.pk}/delete/",
        "/accounts/settings/",
    ):
        axe_page.goto(path)
        found[path] = violations(axe_page)

    # Opened states: Completed, a Move menu, the shortcuts dialog, quick add's preview.
    axe_page.goto("/")
    axe_page.get_by_text("Completed").click()
    axe_page.locator("details.move-menu > summary").first.click()
    axe_page.get_by_label("New todo").fill("Pay rent tomorrow !high #work")
    axe_page.locator("#quick-add-preview .chip").first.wait_for()
    found["/ (opened)"] = violations(axe_page)
    axe_page.evaluate("document.activeElement.blur()")
    axe_page.keyboard.press("?")
    found["/ (shortcuts)"] = violations(axe_page)

    assert found == {path: [] for path in found}
