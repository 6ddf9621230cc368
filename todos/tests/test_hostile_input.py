"""Hostile input on every writing endpoint, beyond the per-endpoint tests: each one a clear 4xx
in DRF's JSON shape, and nothing written."""

import json

import pytest

from todos.api.idempotency import IdempotencyKey
from todos.models import Todo
from todos.services import create_todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def todo(alice):
    return create_todo(owner=alice, title="untouched")


def send(client, method, path, raw, content_type="application/json", **extra):
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    return client.generic(method, path, raw, content_type=content_type, **extra)


def assert_nothing_written(todo):
    assert list(Todo.objects.values_list("title", flat=True)) == ["untouched"]
    todo.refresh_from_db()
    assert todo.updated_at == Todo.objects.get(pk=todo.pk).updated_at
    assert not IdempotencyKey.objects.exists()


def targets(todo):
    return [
        ("POST", "/api/todo", lambda body: body),
        ("POST", "/api/todo/bulk", lambda body: [{"title": "fine"}, body]),
        ("PUT", f"/api/todo/{todo.pk}", lambda body: body),
        ("PATCH", f"/api/todo/{todo.pk}", lambda body: body),
    ]


# JSON text (escapes as a client would send them) with NUL or a lone surrogate somewhere.
UNSAFE_TEXT = {
    "NUL in title": '{"title": "a\\u0000b"}',
    "NUL in description": '{"title": "ok", "description": "\\u0000"}',
    "NUL in an unknown field": '{"title": "ok", "note": "\\u0000"}',
    "NUL in a field name": '{"title": "ok", "no\\u0000te": 1}',
    "NUL deep in an unknown value": '{"title": "ok", "x": [{"y": ["\\u0000"]}]}',
    "lone high surrogate in title": '{"title": "\\ud800"}',
    "lone low surrogate in description": '{"title": "ok", "description": "\\udfff"}',
    "lone surrogate echoed by a choice error": '{"title": "ok", "priority": "\\ud83d"}',
    "lone surrogate in a date": '{"title": "ok", "due_date": "\\udc00"}',
    "lone surrogate in a field name": '{"title": "ok", "\\ud800": 1}',
}


@pytest.mark.parametrize("case", UNSAFE_TEXT)
@pytest.mark.parametrize("target", range(4))
def test_nul_and_lone_surrogates_anywhere_are_400(alice_api, todo, case, target):
    method, path, wrap = targets(todo)[target]
    body = json.dumps(wrap(json.loads(UNSAFE_TEXT[case])))

    response = send(alice_api, method, path, body, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 400
    message = json.dumps(response.json())
    assert "Null characters are not allowed" in message or "Surrogate characters" in message
    assert_nothing_written(todo)


def test_the_error_names_the_field_and_the_bulk_item(alice_api):
    body = '[{"title": "ok"}, {"title": "ok"}, {"title": "ok", "description": "\\u0000"}]'
    response = send(alice_api, "POST", "/api/todo/bulk", body)
    assert response.json() == {"2": {"description": ["Null characters are not allowed."]}}


def test_a_good_surrogate_pair_is_fine(alice_api):
    response = send(alice_api, "POST", "/api/todo", '{"title": "\\ud83d\\ude00 party"}')
    assert response.status_code == 201
    assert response.json()["title"] == "\U0001f600 party"


@pytest.mark.parametrize("date", ["0000-01-01", "10000-01-01", "-0001-01-01", "2027-13-01"])
@pytest.mark.parametrize("target", range(4))
def test_years_0_and_10000_are_400(alice_api, todo, date, target):
    method, path, wrap = targets(todo)[target]
    body = json.dumps(wrap({"title": "ok", "due_date": date}))
    response = send(alice_api, method, path, body)
    assert response.status_code == 400
    assert "due_date" in json.dumps(response.json())
    assert_nothing_written(todo)


@pytest.mark.parametrize("date", ["0000-01-01", "10000-01-01", "9999-99-99", "%00"])
@pytest.mark.parametrize("name", ["due_before", "due_after"])
def test_years_0_and_10000_in_filters_are_400(alice_api, name, date):
    response = alice_api.get(f"/api/todo?{name}={date}")
    assert response.status_code == 400
    assert name in response.json()


def test_the_extreme_valid_years_work_in_filters_and_fields(alice_api):
    # Due dates go to 2200 (todos/tests/test_due_date_range.py); filters take any date.
    created = alice_api.post(
        "/api/todo", {"title": "far", "due_date": "2200-12-31"}, format="json"
    ).json()
    assert created["due_date"] == "2200-12-31"
    assert alice_api.get("/api/todo?due_after=0001-01-01").json()["results"][0]["title"] == "far"
    assert alice_api.get("/api/todo?due_before=2200-12-31").json()["results"] == []
    assert alice_api.get("/api/todo?due_before=9999-12-31").json()["results"][0]["title"] == "far"


@pytest.mark.parametrize(
    "query",
    [
        "page_size=1e2",
        "page_size=%2050",
        "page_size=50%00",
        "page_size=" + "9" * 5000,
        "cursor=%00",
        "cursor=" + "A" * 10_000,
        "cursor=cD0lMDA=",  # base64 of "p=%00"
        "cursor=bz05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",  # o=999...9
        "cursor=cj0xJnA9MjAyNy0wMS0wMSAwMDowMDowMCswMDowMCY=",  # r=1&p=<a date>&
        "priority=%00",
        "completed=%00",
    ],
)
def test_absurd_page_sizes_and_garbage_cursors_are_400_or_a_page(alice_api, query):
    response = alice_api.get(f"/api/todo?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert query.split("=")[0] in response.json()
    else:
        assert response.json()["results"] == []


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("pk", ["9223372036854775808", "9" * 100, "-1", "0x10", "1e3", "%00"])
def test_ids_that_overflow_or_are_not_ids_are_404_on_every_method(alice_api, todo, method, pk):
    response = getattr(alice_api, method)(f"/api/todo/{pk}", {"title": "x"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert_nothing_written(todo)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "",
    ],
)
@pytest.mark.parametrize("target", range(4))
def test_the_wrong_content_type_is_415_on_every_write(alice_api, todo, content_type, target):
    method, path, wrap = targets(todo)[target]
    body = json.dumps(wrap({"title": "ok"}))
    response = send(alice_api, method, path, body, content_type=content_type)
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]
    assert_nothing_written(todo)


def test_the_wrong_content_type_is_415_for_the_token_endpoint(alice, anon_api):
    response = send(anon_api, "POST", "/api/auth/token", "username=alice", "text/plain")
    assert response.status_code == 415


@pytest.mark.parametrize("target", range(4))
def test_absurd_nesting_is_400_on_every_write(alice_api, todo, target):
    method, path, _ = targets(todo)[target]
    response = send(alice_api, method, path, '{"title": ' + "[" * 50_000 + "]" * 50_000 + "}")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert_nothing_written(todo)


@pytest.mark.parametrize("target", range(4))
def test_a_body_over_the_limit_is_413_on_every_write(alice_api, todo, target, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    method, path, wrap = targets(todo)[target]
    body = json.dumps(wrap({"title": "ok", "description": "y" * 2000}))
    response = send(alice_api, method, path, body)
    assert response.status_code == 413
    assert_nothing_written(todo)


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "ok", "due_date": 1e400}',  # a float that overflows to infinity
        '{"title": "ok", "completed": 1e400}',
        '{"title": "ok", "priority": ' + "9" * 5000 + "}",  # past Python's int digit limit
        '{"title": "ok", "due_date": -1}',
        '{"title": "ok", "completed": null}',
    ],
)
def test_absurd_numbers_are_400(alice_api, raw):
    response = send(alice_api, "POST", "/api/todo", raw)
    assert response.status_code == 400
    assert not Todo.objects.exists()


def test_read_only_fields_are_ignored_not_written(alice, alice_api, todo):
    response = alice_api.post(
        "/api/todo",
        {"title": "mine", "id": todo.pk, "created_at": "2000-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 201
    created = Todo.objects.get(pk=response.json()["id"])
    assert created.pk != todo.pk
    assert created.owner == alice
    assert created.created_at.year != 2000
    assert Todo.objects.get(pk=todo.pk).title == "untouched"


def test_an_owner_in_the_body_is_an_unknown_field(bob, alice_api, todo):
    response = alice_api.post("/api/todo", {"title": "mine", "owner": bob.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"owner": ["Unknown field."]}
    assert Todo.objects.count() == 1
