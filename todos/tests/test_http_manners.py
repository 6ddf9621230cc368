"""What a careless client gets: a path off by a trailing slash is redirected (308, which keeps
the method and body) to the endpoint; a Bearer token is told the scheme this API takes; the
README's token one-liner says why there is no token instead of a traceback."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from rest_framework.authtoken.models import Token

from conftest import PASSWORD, django_transport_only
from todos.models import Todo

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"

NEAR_MISSES = [
    ("/api/todo/", "/api/todo"),
    ("/api/todo/{pk}/", "/api/todo/{pk}"),
    ("/api/todo/bulk/", "/api/todo/bulk"),
    ("/api/auth/token/", "/api/auth/token"),
    ("/api/debug/pool-status/", "/api/debug/pool-status"),
    ("/api/schema", "/api/schema/"),
    ("/api/docs", "/api/docs/"),
]


@pytest.fixture
def todo(alice_api):
    return alice_api.post("/api/todo", {"title": "mine"}, format="json").json()


@pytest.mark.parametrize(("near", "canonical"), NEAR_MISSES)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_a_path_off_by_a_slash_is_a_308_to_the_endpoint(alice_api, todo, near, canonical, method):
    near, canonical = near.format(pk=todo["id"]), canonical.format(pk=todo["id"])

    if method == "get":
        response = alice_api.get(f"{near}?page_size=1")
    else:
        response = getattr(alice_api, method)(f"{near}?page_size=1", {"title": "x"}, format="json")

    assert response.status_code == 308
    assert response["Location"] == f"{canonical}?page_size=1"
    assert response.json() == {"detail": f"This endpoint is {canonical}."}
    assert Todo.objects.count() == 1  # nothing done at the near miss


def test_a_client_that_follows_the_308_creates_once(alice, alice_api, api_transport, request):
    if api_transport == "live":
        base = request.getfixturevalue("live_asgi").url
        response = requests.post(
            f"{base}/api/todo/",
            json={"title": "via the slash"},
            headers={"Authorization": f"Token {alice.auth_token.key}"},
        )
        assert [r.status_code for r in response.history] == [308]
        status, body = response.status_code, response.json()
    else:
        response = alice_api.post(
            "/api/todo/", {"title": "via the slash"}, format="json", follow=True
        )
        status, body = response.status_code, response.json()
    assert (status, body["title"]) == (201, "via the slash")
    assert list(Todo.objects.values_list("title", flat=True)) == ["via the slash"]


@pytest.mark.parametrize("path", ["/api/", "/api/nowhere", "/api/nowhere/", "/api/todo/1/x/"])
def test_other_paths_stay_a_json_404(alice_api, path):
    response = alice_api.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/todo"),
        ("post", "/api/todo"),
        ("post", "/api/todo/bulk"),
        ("get", "/api/todo/1"),
        ("patch", "/api/todo/1"),
        ("delete", "/api/todo/1"),
        ("delete", "/api/auth/token"),
    ],
)
def test_a_bearer_token_is_told_to_use_token(alice, new_api_client, method, path):
    client = new_api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.create(user=alice).key}")

    if method == "get":
        response = client.get(path)
    else:
        response = getattr(client, method)(path, {"title": "x"}, format="json")

    assert response.status_code == 401
    assert "Authorization: Token <key>" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"
    assert not Todo.objects.exists()


@pytest.mark.parametrize(
    "key",
    ["a\x00b", "\x00", "abc\x7f", "caf\u00e9"],
    ids=["NUL", "only NUL", "DEL", "not ASCII"],
)
@django_transport_only  # over HTTP, uvicorn refuses control characters in a header itself
def test_a_token_with_control_characters_is_401(new_api_client, key):
    client = new_api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/todo")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token")


def readme_token_one_liner():
    [code] = re.findall(r"\| python3 -c '([^']+)'\)", README.read_text())
    return code


@pytest.mark.parametrize("password", [PASSWORD, "wrong"])
def test_the_readmes_token_one_liner(alice, anon_api, password):
    answer = anon_api.post(
        "/api/auth/token", {"username": "alice", "password": password}, format="json"
    )
    result = subprocess.run(
        [sys.executable, "-c", readme_token_one_liner()],
        input=answer.content,
        capture_output=True,
        check=False,
    )
    if password == PASSWORD:
        assert (result.returncode, result.stdout.decode().strip()) == (0, alice.auth_token.key)
    else:
        assert result.returncode == 1
        assert result.stdout == b""
        assert result.stderr.decode() == (
            "No token: {'detail': 'Unable to log in with provided credentials.'}\n"
        )
