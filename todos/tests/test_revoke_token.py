"""DELETE /api/auth/token revokes the token the request carries."""

import pytest
from rest_framework.authtoken.models import Token

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_revoked_token_stops_working_at_once(alice_api):
    assert alice_api.delete("/api/auth/token").status_code == 204

    response = alice_api.get("/api/todo")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_logging_in_again_issues_a_new_token(alice, alice_api, anon_api):
    old = alice.auth_token.key
    alice_api.delete("/api/auth/token")

    new = anon_api.post(
        "/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
    ).json()["token"]

    assert new != old
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert anon_api.get("/api/todo").status_code == 200


def test_it_revokes_only_the_callers_token(alice, bob, alice_api, bob_api):
    bob_api.delete("/api/auth/token")
    assert list(Token.objects.values_list("user__username", flat=True)) == ["alice"]
    assert alice_api.get("/api/todo").status_code == 200


def test_without_a_token_it_is_401(anon_api, alice, client):
    assert anon_api.delete("/api/auth/token").status_code == 401
    client.force_login(alice)  # a session is not a token: nothing to revoke
    assert client.delete("/api/auth/token").status_code == 401


def test_a_revoked_token_cannot_revoke_again(alice_api):
    alice_api.delete("/api/auth/token")
    assert alice_api.delete("/api/auth/token").status_code == 401
