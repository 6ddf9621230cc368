import json

import pytest

from todos.models import Priority, Todo

pytestmark = pytest.mark.django_db


def test_it_creates_a_todo_with_defaults(alice, alice_api):
    response = alice_api.post("/api/todo", {"title": "  Buy milk  "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Buy milk"
    assert body["description"] == ""
    assert body["priority"] == "medium"
    assert body["due_date"] is None
    assert body["completed"] is False
    assert body["completed_at"] is None
    assert response["Location"].endswith(f"/api/todo/{body['id']}")
    todo = Todo.objects.get(pk=body["id"])
    assert todo.owner == alice
    assert todo.priority == Priority.MEDIUM


def test_it_stores_every_field(alice_api):
    response = alice_api.post(
        "/api/todo",
        {
            "title": "Taxes",
            "description": "  keep the spacing ",
            "priority": "high",
            "due_date": "2027-04-15",
            "completed": True,
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 201
    assert body["description"] == "  keep the spacing "
    assert body["priority"] == "high"
    assert body["due_date"] == "2027-04-15"
    assert body["completed"] is True
    assert body["completed_at"] is not None
    assert Todo.objects.get(pk=body["id"]).priority == Priority.HIGH


def test_a_title_of_200_characters_is_accepted(alice_api):
    response = alice_api.post("/api/todo", {"title": "x" * 200}, format="json")
    assert response.status_code == 201


def test_anonymous_callers_get_401(anon_api):
    response = anon_api.post("/api/todo", {"title": "x"}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not Todo.objects.exists()


BAD_BODIES = {
    "blank title": ({"title": "   "}, "title"),
    "missing title": ({"priority": "low"}, "title"),
    "title over 200": ({"title": "x" * 201}, "title"),
    "NUL in title": ({"title": "a\x00b"}, "title"),
    "NUL in description": ({"title": "ok", "description": "a\x00b"}, "description"),
    "lone surrogate": ({"title": "a\ud800b"}, "title"),
    "unknown priority": ({"title": "ok", "priority": "urgent"}, "priority"),
    "priority as number": ({"title": "ok", "priority": 3}, "priority"),
    "date that does not exist": ({"title": "ok", "due_date": "2027-02-30"}, "due_date"),
    "year 10000": ({"title": "ok", "due_date": "10000-01-01"}, "due_date"),
    "year 0": ({"title": "ok", "due_date": "0000-01-01"}, "due_date"),
    "date as number": ({"title": "ok", "due_date": 20270101}, "due_date"),
    "completed not boolean": ({"title": "ok", "completed": "maybe"}, "completed"),
    "title as list": ({"title": ["a"]}, "title"),
    "title as object": ({"title": {"a": 1}}, "title"),
    "description null": ({"title": "ok", "description": None}, "description"),
}


@pytest.mark.parametrize("case", BAD_BODIES)
def test_it_rejects_bad_fields_and_writes_nothing(alice_api, case):
    body, field = BAD_BODIES[case]
    response = alice_api.post("/api/todo", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Todo.objects.exists()


def test_a_list_where_an_object_belongs_is_400(alice_api):
    response = alice_api.post("/api/todo", [{"title": "x"}], format="json")
    assert response.status_code == 400
    assert "Expected a dictionary" in response.json()["non_field_errors"][0]
    assert not Todo.objects.exists()


@pytest.mark.parametrize(
    "raw", [b"{", b'{"title": "x",}', b"\xff\xfe", b'{"title": NaN}', b"[" * 100_000]
)
def test_malformed_json_is_400(alice_api, raw):
    response = alice_api.generic("POST", "/api/todo", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert not Todo.objects.exists()


def test_the_wrong_content_type_is_415(alice_api):
    response = alice_api.generic("POST", "/api/todo", "title=x", content_type="text/plain")
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_a_body_over_the_size_limit_is_413(alice_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"title": "x", "description": "y" * 2000})
    response = alice_api.generic("POST", "/api/todo", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: the limit is 1000 bytes."}
    assert not Todo.objects.exists()


def test_a_lone_surrogate_echoed_in_a_choice_error_is_400_not_500(alice_api):
    """DRF's "... is not a valid choice" message repeated the surrogate, and rendering that 400
    as UTF-8 failed with a 500. Found by the hostile-input tests."""
    body = '{"title": "ok", "priority": "\\ud800"}'
    response = alice_api.generic("POST", "/api/todo", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"priority": ["Surrogate characters are not allowed: U+D800."]}
    assert not Todo.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "ok", "completed": 0}, "completed"),
        ({"title": "ok", "completed": "true"}, "completed"),
        ({"title": "ok", "completed": "yes"}, "completed"),
        ({"title": 5}, "title"),
        ({"title": 1.5}, "title"),
        ({"title": True}, "title"),
        ({"title": "ok", "description": 0}, "description"),
    ],
)
def test_json_types_are_not_coerced(alice_api, body, field):
    """DRF turned 0 into false and numbers into text; the API takes JSON's own types only.
    Found by schema fuzzing."""
    response = alice_api.post("/api/todo", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Todo.objects.exists()


def test_a_title_is_counted_after_trimming(alice_api):
    response = alice_api.post("/api/todo", {"title": "\x1f " + "x" * 200 + " \t"}, format="json")
    assert response.status_code == 201
    assert response.json()["title"] == "x" * 200
