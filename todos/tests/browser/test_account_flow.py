import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

from .conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_visitor_signs_up_signs_out_and_signs_back_in(page):
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    page.get_by_role("link", name="Create an account").click()

    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("status")).to_contain_text("Welcome, carol!")
    expect(page.get_by_role("heading", name="Nothing in Inbox yet")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")

    sign_in(page, "carol", password="wrong")
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")

    sign_in(page, "carol")
    expect(page.get_by_role("status")).to_contain_text("Signed in as carol.")
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
