import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import django_transport_only
from todos.models import Todo

pytestmark = pytest.mark.django_db


def test_it_creates_every_item_in_input_order(alice, alice_api):
    items = [{"title": f"item {i}", "priority": ["low", "high"][i % 2]} for i in range(5)]
    response = alice_api.post("/api/todo/bulk", items, format="json")

    assert response.status_code == 201
    created = response.json()
    assert [todo["title"] for todo in created] == [item["title"] for item in items]
    assert [todo["priority"] for todo in created] == [item["priority"] for item in items]
    assert all(todo["id"] for todo in created)
    assert (
        list(Todo.objects.filter(pk__in=[t["id"] for t in created]).values_list("owner", flat=True))
        == [alice.pk] * 5
    )


@django_transport_only
def test_200_items_are_inserted_by_one_insert_statement(alice_api):
    items = [{"title": f"item {i}"} for i in range(200)]
    with CaptureQueriesContext(connection) as queries:
        response = alice_api.post("/api/todo/bulk", items, format="json")

    assert response.status_code == 201
    inserts = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "todos"')]
    assert len(inserts) == 1
    assert Todo.objects.count() == 200


def test_1000_items_are_accepted(alice_api):
    response = alice_api.post("/api/todo/bulk", [{"title": "x"}] * 1000, format="json")
    assert response.status_code == 201
    assert Todo.objects.count() == 1000


def test_one_bad_item_rejects_the_whole_batch_and_names_it(alice_api):
    items = [{"title": "ok"}, {"title": ""}, {"title": "ok"}, {"title": "x", "priority": "no"}]
    response = alice_api.post("/api/todo/bulk", items, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "1": {"title": ["This field may not be blank."]},
        "3": {"priority": ['"no" is not a valid choice.']},
    }
    assert not Todo.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "This list may not be empty."),
        ([{"title": "x"}] * 1001, "Ensure this field has no more than 1000 elements."),
        ({"title": "x"}, 'Expected a list of items but got type "dict".'),
        ("title", 'Expected a list of items but got type "str".'),
    ],
)
def test_a_body_that_is_not_a_list_of_1_to_1000_is_400(alice_api, body, message):
    response = alice_api.post("/api/todo/bulk", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [message]}
    assert not Todo.objects.exists()


def test_items_that_are_not_objects_are_400(alice_api):
    response = alice_api.post("/api/todo/bulk", [{"title": "x"}, "y", 3], format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"1", "2"}
    assert not Todo.objects.exists()


def test_anonymous_callers_get_401(anon_api):
    assert anon_api.post("/api/todo/bulk", [{"title": "x"}], format="json").status_code == 401
