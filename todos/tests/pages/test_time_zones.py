"""Each person's time zone: taken from the browser at signup and login, changeable on the
account page; "today", "overdue" and "tomorrow" on the pages are theirs, the API stays UTC."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from conftest import PASSWORD
from todos.models import UserSettings
from todos.services import create_todo

pytestmark = pytest.mark.django_db

# (Before the sessions of the test clients: they would have expired after it.)
# 06:30 UTC on Dec 10 is 22:30 on Dec 9 in Los Angeles.
LATE_IN_LOS_ANGELES = dt.datetime(2025, 12, 10, 6, 30, tzinfo=dt.UTC)


def zone_of(user):
    found = UserSettings.objects.filter(user=user).first()
    return found and found.time_zone


def test_signup_keeps_the_time_zone_the_browser_sent(client):
    client.post(
        "/accounts/signup/",
        {
            "username": "carol",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "time_zone": "America/Los_Angeles",
        },
    )
    assert UserSettings.objects.get(user__username="carol").time_zone == "America/Los_Angeles"


@pytest.mark.parametrize("sent", ["Mars/Olympus_Mons", "", "../../etc/passwd", "x" * 500])
def test_a_zone_that_is_not_one_is_ignored_at_login(alice, client, sent):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD, "time_zone": sent}
    )
    assert response.status_code == 302  # signed in all the same
    assert zone_of(alice) is None


def test_login_updates_the_zone_to_where_the_browser_is_now(alice):
    for zone in ("Europe/Berlin", "Asia/Tokyo"):
        Client().post(
            "/accounts/login/", {"username": "alice", "password": PASSWORD, "time_zone": zone}
        )
    assert zone_of(alice) == "Asia/Tokyo"


def test_the_account_page_changes_the_zone_and_refuses_an_unknown_one(alice, alice_client):
    page = alice_client.get("/accounts/settings/").content.decode()
    assert '<option value="UTC" selected>' in page

    response = alice_client.post("/accounts/settings/", {"time_zone": "Nowhere/Special"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert zone_of(alice) is None

    response = alice_client.post(
        "/accounts/settings/", {"time_zone": "Pacific/Auckland"}, follow=True
    )
    assert "Your time zone is now Pacific/Auckland." in response.content.decode()
    assert '<option value="Pacific/Auckland" selected>' in response.content.decode()


@time_machine.travel(LATE_IN_LOS_ANGELES, tick=False)
def test_late_in_the_evening_in_los_angeles_tomorrow_is_tomorrow_and_today_is_not_overdue(
    alice, alice_client
):
    UserSettings.objects.create(user=alice, time_zone="America/Los_Angeles")
    create_todo(owner=alice, title="Dentist", due_date=dt.date(2025, 12, 10))
    create_todo(owner=alice, title="Call mum", due_date=dt.date(2025, 12, 9))

    html = alice_client.get("/").content.decode()

    assert "Due tomorrow" in html
    assert "Due today" in html
    assert "Overdue" not in html


@time_machine.travel(LATE_IN_LOS_ANGELES, tick=False)
def test_in_utc_the_same_moment_is_the_next_day(alice, alice_client):
    create_todo(owner=alice, title="Call mum", due_date=dt.date(2025, 12, 9))
    html = alice_client.get("/").content.decode()
    assert "Overdue · was due yesterday" in html


@time_machine.travel(LATE_IN_LOS_ANGELES, tick=False)
def test_due_dates_read_as_short_as_stays_clear(alice, alice_client):
    UserSettings.objects.create(user=alice, time_zone="America/Los_Angeles")  # Tue, Dec 9
    for title, due in [
        ("This week", dt.date(2025, 12, 12)),
        ("This year", dt.date(2025, 12, 20)),
        ("Next year", dt.date(2026, 1, 20)),
        ("Last week", dt.date(2025, 12, 1)),
    ]:
        create_todo(owner=alice, title=title, due_date=due)
    html = " ".join(alice_client.get("/").content.decode().split())
    for shown in ["Due Fri, Dec 12 <", "Due Dec 20 <", "Due Jan 20, 2026 <", "was due Dec 1 <"]:
        assert shown in html


def test_shown_times_are_in_the_users_zone(alice, alice_client):
    UserSettings.objects.create(user=alice, time_zone="Asia/Kolkata")  # UTC+05:30
    with time_machine.travel(dt.datetime(2027, 3, 1, 20, 0, tzinfo=dt.UTC), tick=False):
        todo = create_todo(owner=alice, title="Stretch")
    html = alice_client.get(f"/todos/{todo.pk}/").content.decode()
    assert "Created Mar 2, 2027, 01:30" in html


def test_the_api_keeps_utc_timestamps_and_plain_dates(alice):
    UserSettings.objects.create(user=alice, time_zone="Asia/Kolkata")
    api = APIClient()
    api.force_authenticate(alice)
    with time_machine.travel(dt.datetime(2027, 3, 1, 20, 0, tzinfo=dt.UTC), tick=False):
        todo = api.post("/api/todo", {"title": "Stretch", "due_date": "2027-03-01"}, format="json")
    body = api.get(f"/api/todo/{todo.json()['id']}").json()
    assert body["due_date"] == "2027-03-01"
    created = dt.datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    assert created.utcoffset() == dt.timedelta(0)
    assert created == dt.datetime(2027, 3, 1, 20, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
