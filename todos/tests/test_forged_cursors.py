"""Forged cursors: every one the service did not issue is 400 `{"cursor": ["Invalid cursor."]}`
on the API (both doors) and a 400 page with the message on the list page, never a 500."""

import base64

import pytest

from todos.services import create_todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(alice, client):
    client.force_login(alice)
    return client


INVALID = {"cursor": ["Invalid cursor."]}


def cursor(text):
    return base64.urlsafe_b64encode(text.encode()).decode()


FORGED = {
    "offset +16:00": "n|newest|2027-01-01T00:00:00+16:00|1",
    "offset -23:59": "p|newest|2027-01-01T00:00:00-23:59|1",
    "offset +15:59": "n|newest|2027-01-01T00:00:00+15:59|1",
    "offset +05:30": "n|newest|2027-01-01T00:00:00+05:30|1",
    "offset in seconds": "n|newest|2027-01-01T00:00:00+00:00:01|1",
    "Z for UTC": "n|newest|2027-01-01T00:00:00Z|1",
    "microseconds of zero": "n|newest|2027-01-01T00:00:00.000000+00:00|1",
    "year 1 east of UTC": "n|newest|0001-01-01T00:00:00+01:00|1",
    "year 9999 west of UTC": "p|newest|9999-12-31T23:59:59-01:00|1",
    "no offset": "n|newest|2027-01-01T00:00:00|1",
    "a date without a time": "n|newest|2027-01-01|1",
    "an empty time": "n|newest||1",
    "id 0": "n|newest|2027-01-01T00:00:00+00:00|0",
    "id 2**63": "n|newest|2027-01-01T00:00:00+00:00|9223372036854775808",
    "id with digits of another script": "n|newest|2027-01-01T00:00:00+00:00|\u0661",
    "id with an underscore": "n|newest|2027-01-01T00:00:00+00:00|1_0",
    "id with spaces": "n|newest|2027-01-01T00:00:00+00:00| 1 ",
    "id with a sign": "n|newest|2027-01-01T00:00:00+00:00|+1",
    "unknown direction": "x|newest|2027-01-01T00:00:00+00:00|1",
    "a fifth part": "n|newest|2027-01-01T00:00:00+00:00|1|1",
    "NUL in the time": "n|newest|2027-01-01T00:00:00+00:00\x00|1",
    "an unknown order": "n|oldest|2027-01-01T00:00:00+00:00|1",
}


@pytest.mark.parametrize("case", FORGED)
def test_a_forged_cursor_is_400_on_the_api(alice, alice_api, case):
    create_todo(owner=alice, title="mine")
    response = alice_api.get(f"/api/todo?cursor={cursor(FORGED[case])}")
    assert response.status_code == 400
    assert response.json() == INVALID


# order=due: a date in its canonical form, or nothing for an undated todo.
FORGED_DUE = {
    "a basic-format date": "n|due|20270131|1",
    "a date with a time": "n|due|2027-01-31T00:00:00|1",
    "a week date": "n|due|2027-W05-1|1",
}


@pytest.mark.parametrize("case", FORGED_DUE)
def test_a_forged_due_cursor_is_400_on_the_api(alice, alice_api, case):
    create_todo(owner=alice, title="mine")
    response = alice_api.get(f"/api/todo?order=due&cursor={cursor(FORGED_DUE[case])}")
    assert response.status_code == 400
    assert response.json() == INVALID


@pytest.mark.parametrize("case", FORGED)
def test_a_forged_cursor_is_a_400_list_page(alice, alice_client, case):
    create_todo(owner=alice, title="mine")
    response = alice_client.get(f"/todos/?cursor={cursor(FORGED[case])}")
    assert response.status_code == 400
    assert "Invalid cursor." in response.content.decode()


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("n|newest|0001-01-01T00:00:00+00:00|1", []),
        ("p|newest|9999-12-31T23:59:59.999999+00:00|1", []),
        ("n|newest|9999-12-31T23:59:59.999999+00:00|9223372036854775807", ["mine"]),
    ],
)
def test_the_extreme_utc_times_are_a_page(alice, alice_api, alice_client, text, titles):
    create_todo(owner=alice, title="mine")
    response = alice_api.get(f"/api/todo?cursor={cursor(text)}")
    assert response.status_code == 200
    assert [todo["title"] for todo in response.json()["results"]] == titles
    page = alice_client.get(f"/todos/?cursor={cursor(text)}")
    assert page.status_code == 200
    assert ("mine" in page.content.decode()) == bool(titles)
