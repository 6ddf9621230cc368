"""What Django refuses itself (too many parameters, a bad Host header) and a server error are
JSON in DRF's shape under /api/, on both doors; the pages keep Django's own answers."""

import pytest
import requests

from todos import selectors

pytestmark = pytest.mark.django_db

TOO_MANY = "&".join(f"f{i}=1" for i in range(1001))  # DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000
TOO_MANY_DETAIL = {"detail": "Too many query or form parameters: the limit is 1000."}


def is_json(response):
    return response["Content-Type"] == "application/json"


# The endpoints that read their query string (the others ignore it).
@pytest.mark.parametrize("path", ["/api/todo", "/api/schema/", "/api/docs/"])
def test_too_many_query_parameters_are_a_json_400(alice_api, path):
    response = alice_api.get(f"{path}?{TOO_MANY}")
    assert response.status_code == 400
    assert is_json(response)
    assert response.json() == TOO_MANY_DETAIL


def test_too_many_query_parameters_through_a_session_is_a_json_400(alice, client):
    client.force_login(alice)
    response = client.get(f"/api/todo?{TOO_MANY}")
    assert response.status_code == 400
    assert response.json() == TOO_MANY_DETAIL


def test_the_list_page_keeps_djangos_400(alice, client):
    client.force_login(alice)
    response = client.get(f"/?{TOO_MANY}")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/api/todo", "/api/todo/1", "/api/auth/token", "/api/nowhere"])
def test_a_host_not_allowed_is_a_json_400(alice_api, api_transport, live_server_url, path):
    if api_transport == "live":
        auth = alice_api.session.headers["Authorization"]
        response = requests.get(
            live_server_url + path, headers={"Host": "evil.example", "Authorization": auth}
        )
        status, content_type, body = (
            response.status_code,
            response.headers["Content-Type"],
            response.json(),
        )
    else:
        response = alice_api.get(path, HTTP_HOST="evil.example")
        status, content_type, body = response.status_code, response["Content-Type"], response.json()
    assert (status, content_type, body) == (400, "application/json", {"detail": "Bad request."})


@pytest.fixture
def live_server_url(api_transport, request):
    return request.getfixturevalue("live_asgi").url if api_transport == "live" else None


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("get", "/api/docs/?format=json", {}, 404),
        ("get", "/api/schema/?format=xml", {}, 404),
        ("get", "/api/schema/", {"HTTP_ACCEPT": "text/html"}, 406),
        ("post", "/api/schema/", {}, 405),
        ("post", "/api/docs/", {}, 405),
        ("delete", "/api/docs/?script", {}, 405),
    ],
)
def test_the_docs_and_schema_errors_are_json(alice_api, method, path, headers, status):
    response = getattr(alice_api, method)(path, **headers)
    assert response.status_code == status
    assert is_json(response)
    assert set(response.json()) == {"detail"}


def test_a_server_error_is_json_on_the_api(alice_api, monkeypatch, api_transport):
    async def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "alist_todos", broken)
    if api_transport == "django":
        alice_api.raise_request_exception = False
    response = alice_api.get("/api/todo")
    assert response.status_code == 500
    assert is_json(response)
    assert response.json() == {"detail": "A server error occurred."}
