import pytest

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_returns_a_token_for_valid_credentials(alice, anon_api):
    response = anon_api.post(
        "/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["token"] == alice.auth_token.key


def test_the_token_authenticates_api_calls(alice, anon_api):
    token = anon_api.post(
        "/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
    ).json()["token"]
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon_api.get("/api/todo").status_code == 200


def test_it_rejects_a_wrong_password(alice, anon_api):
    response = anon_api.post(
        "/api/auth/token", {"username": "alice", "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Unable to log in with provided credentials."}
    assert response["WWW-Authenticate"] == "Token"


def test_it_rejects_missing_fields(anon_api):
    response = anon_api.post("/api/auth/token", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_an_unknown_token_is_401(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = anon_api.get("/api/todo")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_session_authentication_works_for_the_api(alice, client):
    client.force_login(alice)
    assert client.get("/api/todo").status_code == 200
