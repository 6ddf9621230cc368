"""Lost-update protection: an ETag on todo responses, If-Match on PUT, PATCH and DELETE."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from conftest import token_client
from todos.api.etag import etag_for
from todos.models import Todo
from todos.services import create_todo
from todos.tests.dbtools import connect, wait_for_blocked_backends

pytestmark = pytest.mark.django_db


@pytest.fixture
def todo(alice):
    return create_todo(owner=alice, title="Walk the dog")


def test_todo_responses_carry_the_todos_etag(alice_api, todo):
    fetched = alice_api.get(f"/api/todo/{todo.pk}")
    assert fetched["ETag"] == etag_for(todo)

    created = alice_api.post("/api/todo", {"title": "new"}, format="json")
    assert created["ETag"] == etag_for(Todo.objects.get(pk=created.json()["id"]))
    assert created["ETag"] == alice_api.get(created["Location"])["ETag"]


def test_the_etag_changes_when_the_todo_does(alice_api, todo):
    before = alice_api.get(f"/api/todo/{todo.pk}")["ETag"]
    changed = alice_api.patch(f"/api/todo/{todo.pk}", {"completed": True}, format="json")
    assert changed["ETag"] != before
    assert changed["ETag"] == alice_api.get(f"/api/todo/{todo.pk}")["ETag"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_write_with_the_current_etag_succeeds(alice_api, todo, method):
    etag = alice_api.get(f"/api/todo/{todo.pk}")["ETag"]
    response = getattr(alice_api, method)(
        f"/api/todo/{todo.pk}", {"title": "Walk the cat"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200
    todo.refresh_from_db()
    assert todo.title == "Walk the cat"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_write_with_a_stale_etag_is_412_and_changes_nothing(alice_api, todo, method):
    stale = alice_api.get(f"/api/todo/{todo.pk}")["ETag"]
    alice_api.patch(f"/api/todo/{todo.pk}", {"title": "changed meanwhile"}, format="json")

    response = getattr(alice_api, method)(
        f"/api/todo/{todo.pk}", {"title": "my edit"}, format="json", HTTP_IF_MATCH=stale
    )

    assert response.status_code == 412
    assert response.json() == {
        "detail": "The todo has changed since you read it: fetch it again and retry."
    }
    todo.refresh_from_db()
    assert todo.title == "changed meanwhile"


def test_delete_with_the_current_etag_deletes(alice_api, todo):
    etag = alice_api.get(f"/api/todo/{todo.pk}")["ETag"]
    assert alice_api.delete(f"/api/todo/{todo.pk}", HTTP_IF_MATCH=etag).status_code == 204
    assert not Todo.objects.exists()


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ("*", 200),
        ('"nope", {current}', 200),
        ("W/{current}", 412),  # weak ETags never match for writes
        ('"nope"', 412),
        ("garbage", 412),
        ("", 412),
    ],
)
def test_if_match_lists_star_and_weak_etags(alice_api, todo, if_match, status):
    current = alice_api.get(f"/api/todo/{todo.pk}")["ETag"]
    response = alice_api.patch(
        f"/api/todo/{todo.pk}",
        {"title": "x"},
        format="json",
        HTTP_IF_MATCH=if_match.format(current=current),
    )
    assert response.status_code == status


def test_a_missing_todo_with_if_match_is_404(alice_api):
    response = alice_api.patch("/api/todo/999999", {"title": "x"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 404


def test_another_users_todo_is_404_not_412_with_if_match(bob_api, todo):
    response = bob_api.delete(f"/api/todo/{todo.pk}", HTTP_IF_MATCH='"nope"')
    assert response.status_code == 404
    assert not response.has_header("ETag")
    assert Todo.objects.filter(pk=todo.pk).exists()


def test_an_invalid_body_with_the_current_etag_is_400_and_changes_nothing(alice_api, todo):
    etag = alice_api.get(f"/api/todo/{todo.pk}")["ETag"]
    response = alice_api.patch(
        f"/api/todo/{todo.pk}", {"title": ""}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 400
    assert alice_api.get(f"/api/todo/{todo.pk}")["ETag"] == etag


@pytest.mark.django_db(transaction=True)
def test_of_two_writers_racing_with_the_same_etag_exactly_one_wins(alice, todo):
    """Both requests are in the database together: the row is locked until both wait on it."""
    clients = [token_client(APIClient, alice) for _ in range(2)]
    etag = clients[0].get(f"/api/todo/{todo.pk}")["ETag"]
    responses = []

    def write(client, title):
        responses.append(
            client.patch(
                f"/api/todo/{todo.pk}", {"title": title}, format="json", HTTP_IF_MATCH=etag
            )
        )
        connection.close()

    with connect() as locker, connect(autocommit=True) as watcher:
        locker.execute("SELECT 1 FROM todos WHERE id = %s FOR UPDATE", [todo.pk])
        threads = [
            threading.Thread(target=write, args=[client, f"writer {i}"])
            for i, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        wait_for_blocked_backends(watcher, 2)
        locker.rollback()
        for thread in threads:
            thread.join(timeout=30)

    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200)
    todo.refresh_from_db()
    assert todo.title == winner.json()["title"]
