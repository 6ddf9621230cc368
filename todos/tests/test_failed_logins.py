"""A bound on failed logins per username + address, for the API token endpoint and the pages'
login forms (the admin's login page stands in for the site's own until it exists). The clock
stands 30 s into a quarter of an hour (conftest.py's throttle_clock) unless a test moves it."""

import pytest

from conftest import PASSWORD, django_transport_only

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def three_failures(settings):
    settings.THROTTLE_FAILED_LOGINS = "3/15min"


def token(client, password, address="10.0.0.1", username="alice"):
    return client.post(
        "/api/auth/token",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def test_after_too_many_failures_even_the_right_password_is_429(alice, anon_api):
    for _ in range(3):
        assert token(anon_api, "wrong").status_code == 401

    response = token(anon_api, PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"] == "870"  # the rest of this quarter of an hour
    assert response.json() == {"detail": "Too many failed logins. Try again in 870 seconds."}


def test_the_bound_lifts_when_its_window_ends(alice, anon_api, throttle_clock):
    for _ in range(3):
        token(anon_api, "wrong")

    throttle_clock.advance(869)
    assert token(anon_api, PASSWORD)["Retry-After"] == "1"
    throttle_clock.advance(1)
    assert token(anon_api, PASSWORD).status_code == 200


@django_transport_only  # sets the client address, which a real socket cannot
def test_other_addresses_and_other_usernames_are_not_blocked(alice, bob, anon_api):
    for _ in range(4):
        token(anon_api, "wrong")
    assert token(anon_api, PASSWORD, address="10.0.0.2").status_code == 200
    assert token(anon_api, PASSWORD, username="bob").status_code == 200


def test_a_successful_login_clears_the_count(alice, anon_api):
    token(anon_api, "wrong")
    token(anon_api, "wrong")
    assert token(anon_api, PASSWORD).status_code == 200
    token(anon_api, "wrong")
    token(anon_api, "wrong")
    assert token(anon_api, PASSWORD).status_code == 200


def test_unknown_usernames_are_bounded_too(anon_api):
    for _ in range(3):
        assert token(anon_api, "x", username="nobody").status_code == 401
    assert token(anon_api, "x", username="nobody").status_code == 429


def test_the_login_page_is_bounded_with_the_same_count(staff, client):
    for _ in range(3):
        failure = client.post(
            "/admin/login/", {"username": "sam", "password": "wrong"}, REMOTE_ADDR="10.0.0.1"
        )
        assert failure.status_code == 200  # the form again, with its error

    response = client.post(
        "/admin/login/", {"username": "sam", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 429
    assert response["Retry-After"] == "870"
    assert response.content.decode() == "Too many failed logins. Try again in 870 seconds."
    assert "_auth_user_id" not in client.session


def test_an_unreachable_cache_does_not_lock_everybody_out(alice, anon_api, settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}
    }
    for _ in range(4):
        token(anon_api, "wrong")
    assert token(anon_api, PASSWORD).status_code == 200
