"""The OpenAPI description at /api/schema/ and its browsable docs at /api/docs/."""

import re
import sys

import jsonschema_rs
import pytest
from django.urls import URLPattern, get_resolver
from drf_spectacular.validation import validate_schema

from todos.api.schema import SPACE_CHARS, TITLE_IN

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


EXPECTED = {
    "/api/auth/token": {"post": {200, 400, 401, 413, 415, 429, 503}, "delete": {204, 401, 503}},
    "/api/todo": {
        "get": {200, 400, 401, 503},
        "post": {201, 400, 401, 403, 413, 415, 422, 429, 503},
    },
    "/api/todo/bulk": {
        "post": {201, 400, 401, 403, 413, 415, 422, 429, 503},
        "patch": {200, 400, 401, 403, 413, 415, 422, 429, 503},
    },
    "/api/todo/bulk/delete": {"post": {204, 400, 401, 403, 413, 415, 422, 429, 503}},
    "/api/todo/{id}": {
        "get": {200, 304, 401, 404, 503},
        "put": {200, 400, 401, 403, 404, 412, 413, 415, 429, 503},
        "patch": {200, 400, 401, 403, 404, 412, 413, 415, 429, 503},
        "delete": {204, 401, 403, 404, 412, 429, 503},
    },
    "/api/todo/{id}/move": {"post": {200, 400, 401, 403, 404, 413, 415, 429, 503}},
    "/api/lists": {
        "get": {200, 401, 503},
        "post": {201, 400, 401, 403, 413, 415, 429, 503},
    },
    "/api/lists/{id}": {
        "get": {200, 401, 404, 503},
        "patch": {200, 400, 401, 403, 404, 413, 415, 429, 503},
        "delete": {204, 401, 403, 404, 409, 429, 503},
    },
    "/api/sync": {"get": {200, 400, 401, 410, 503}},
    "/api/events": {"get": {200, 204, 400, 401, 410, 429}},
    "/api/debug/pool-status": {"get": {200, 401, 403, 503}},
}


def test_the_schema_is_valid_openapi_3(openapi):
    assert openapi["openapi"].startswith("3.")
    validate_schema(openapi)


def test_every_endpoint_method_and_status_is_documented(openapi):
    documented = {
        path: {method: {int(code) for code in op["responses"]} for method, op in ops.items()}
        for path, ops in openapi["paths"].items()
    }
    assert documented == EXPECTED


def test_every_api_route_is_in_the_schema(openapi):
    """A new route under /api/ must be described (the catch-all and the docs themselves aside)."""
    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/")
    routes = {
        "/api/" + re.sub(r"<todo_id:pk>", "{id}", str(p.pattern))
        for p in api.url_patterns
        if isinstance(p, URLPattern) and p.name not in (None, "schema", "docs")
    }
    assert routes == set(openapi["paths"])


def test_errors_retry_after_and_etags_are_described(openapi):
    create = openapi["paths"]["/api/todo"]["post"]
    assert create["responses"]["503"]["headers"]["Retry-After"]["required"] is True
    assert create["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    assert create["responses"]["201"]["headers"]["Location"]["required"] is True
    assert "ETag" in create["responses"]["201"]["headers"]
    assert create["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    headers = {p["name"] for p in create["parameters"] if p["in"] == "header"}
    assert headers == {"Idempotency-Key"}
    update = openapi["paths"]["/api/todo/{id}"]["patch"]
    assert {p["name"] for p in update["parameters"] if p["in"] == "header"} == {"If-Match"}
    assert set(openapi["components"]["schemas"]) >= {"Error", "FieldErrors", "BulkErrors"}


def test_filters_and_pagination_are_described(openapi):
    parameters = {p["name"]: p for p in openapi["paths"]["/api/todo"]["get"]["parameters"]}
    assert set(parameters) == {
        "q",
        "completed",
        "priority",
        "due_before",
        "due_after",
        "list",
        "parent",
        "order",
        "page_size",
        "cursor",
    }
    assert parameters["order"]["schema"]["enum"] == ["newest", "due", "position"]
    assert parameters["page_size"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
    }
    assert parameters["priority"]["schema"]["enum"] == ["high", "low", "medium"]
    assert parameters["due_before"]["schema"] == {"type": "string", "format": "date"}


def test_bodies_are_described_as_the_api_reads_them(openapi):
    schemas = openapi["components"]["schemas"]
    assert schemas["TodoRequest"]["properties"]["title"] == TITLE_IN
    assert schemas["TodoRequest"]["required"] == ["title"]
    assert schemas["LoginRequest"]["properties"]["username"]["pattern"] == f"[^{SPACE_CHARS}]"
    assert schemas["Todo"]["properties"]["completed_at"]["nullable"] is True
    bulk = openapi["paths"]["/api/todo/bulk"]["post"]["requestBody"]
    assert bulk["required"] is True
    assert bulk["content"]["application/json"]["schema"]["minItems"] == 1
    assert bulk["content"]["application/json"]["schema"]["maxItems"] == 1000


def test_only_the_token_endpoint_is_open_without_credentials(openapi):
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            public = (path, method) == ("/api/auth/token", "post")
            assert ("security" not in op) == public, (path, method)


def test_the_docs_page_loads_its_assets_from_the_project(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("/static/drf_spectacular_sidecar/swagger-ui" in s for s in sources)
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert "cdn" not in html.lower()


def test_the_sidecar_assets_are_served(client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # as after collectstatic, without running it
    html = client.get("/api/docs/").content.decode()
    script = re.search(r'src="(/static/drf_spectacular_sidecar/[^"]+\.js)"', html).group(1)
    response = client.get(script)
    assert response.status_code == 200
    assert len(b"".join(response.streaming_content)) > 10_000


def test_the_title_pattern_trims_what_python_trims_in_both_regex_flavours():
    """Python's re (which generates examples) and the JSON Schema validator must both read a
    title as blank exactly when str.strip() leaves nothing. \\s differs between them (U+0085,
    U+001C-U+001F, U+FEFF); the fuzzer found a title of NEL and separators."""
    python = re.compile(TITLE_IN["pattern"])
    validator = jsonschema_rs.validator_for(TITLE_IN)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        blank = not char.strip()
        assert (python.search(char) is None) == blank, hex(code)
        assert (not validator.is_valid(char)) == blank, hex(code)
    assert validator.is_valid(" \x85" + "x" * 200 + "\u3000")
    assert not validator.is_valid("x" * 201)
