"""Idempotency-Key on POST /api/todo and POST /api/todo/bulk: a retry returns the first response
and creates nothing more, also when the retries arrive at the same moment."""

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import django_transport_only, token_client
from todos.api.idempotency import IdempotencyKey
from todos.models import Todo
from todos.tests.dbtools import connect, wait_for_blocked_backends

pytestmark = pytest.mark.django_db


def post(client, path, body, key):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_returns_the_first_response_and_creates_nothing_more(alice_api):
    first = post(alice_api, "/api/todo", {"title": "Pay rent", "priority": "high"}, "rent-2027-01")
    again = post(alice_api, "/api/todo", {"priority": "high", "title": "Pay rent"}, "rent-2027-01")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Location"] == first["Location"]
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Todo.objects.count() == 1


def test_a_bulk_retry_returns_the_first_response_and_creates_nothing_more(alice_api):
    items = [{"title": f"item {i}"} for i in range(5)]
    first = post(alice_api, "/api/todo/bulk", items, "import-1")
    again = post(alice_api, "/api/todo/bulk", items, "import-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Todo.objects.count() == 5


def test_the_same_key_with_another_body_is_422_and_writes_nothing(alice_api):
    post(alice_api, "/api/todo", {"title": "Pay rent"}, "k-1")
    response = post(alice_api, "/api/todo", {"title": "Pay the rent"}, "k-1")

    assert response.status_code == 422
    assert "different request" in response.json()["detail"]
    assert list(Todo.objects.values_list("title", flat=True)) == ["Pay rent"]


def test_the_same_key_on_the_other_endpoint_is_422(alice_api):
    post(alice_api, "/api/todo", {"title": "x"}, "k-1")
    response = post(alice_api, "/api/todo/bulk", [{"title": "x"}], "k-1")
    assert response.status_code == 422
    assert Todo.objects.count() == 1


def test_keys_belong_to_one_user(alice, bob, alice_api, bob_api):
    alices = post(alice_api, "/api/todo", {"title": "same"}, "shared-key").json()
    bobs = post(bob_api, "/api/todo", {"title": "same"}, "shared-key")

    assert bobs.status_code == 201
    assert not bobs.has_header("Idempotent-Replayed")
    assert bobs.json()["id"] != alices["id"]
    assert Todo.objects.get(pk=bobs.json()["id"]).owner == bob
    assert Todo.objects.filter(owner=alice).count() == 1


def test_a_failed_request_claims_nothing_and_can_be_retried_with_its_key(alice_api):
    bad = post(alice_api, "/api/todo", {"title": ""}, "k-1")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()

    fixed = post(alice_api, "/api/todo", {"title": "now valid"}, "k-1")
    assert fixed.status_code == 201
    assert Todo.objects.count() == 1


def test_an_expired_key_creates_again(alice_api, settings):
    post(alice_api, "/api/todo", {"title": "daily"}, "k-1")
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))

    again = post(alice_api, "/api/todo", {"title": "daily"}, "k-1")

    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert Todo.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1


def test_the_purge_command_deletes_only_expired_keys(alice_api):
    post(alice_api, "/api/todo", {"title": "old"}, "old")
    post(alice_api, "/api/todo", {"title": "new"}, "new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )
    call_command("purge_idempotency_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@django_transport_only  # an HTTP client refuses to send most of these header values
@pytest.mark.parametrize("key", ["", " ", "x" * 256, "caf\u00e9", "a b", "tab\there"])
def test_a_malformed_key_is_400_and_writes_nothing(alice_api, key):
    response = alice_api.post(
        "/api/todo",
        {"title": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Todo.objects.exists()


def test_without_a_key_every_post_creates(alice_api):
    alice_api.post("/api/todo", {"title": "x"}, format="json")
    alice_api.post("/api/todo", {"title": "x"}, format="json")
    assert Todo.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "body", "created"),
    [("/api/todo", {"title": "once"}, 1), ("/api/todo/bulk", [{"title": "a"}, {"title": "b"}], 2)],
)
def test_concurrent_retries_create_exactly_once(alice, path, body, created):
    """Eight identical requests in flight together: the todos table is locked until all eight
    are waiting in the database, so they really overlap."""
    retries = 8
    clients = [token_client(APIClient, alice) for _ in range(retries)]
    responses = []

    def send(client):
        responses.append(post(client, path, body, "same-moment"))
        connection.close()

    with connect() as locker, connect(autocommit=True) as watcher:
        locker.execute("LOCK TABLE todos IN SHARE MODE")  # blocks the inserts, not the reads
        threads = [threading.Thread(target=send, args=[client]) for client in clients]
        for thread in threads:
            thread.start()
        wait_for_blocked_backends(watcher, retries)
        locker.rollback()  # releases the lock
        for thread in threads:
            thread.join(timeout=30)

    assert [r.status_code for r in responses] == [201] * retries
    assert len({r.content for r in responses}) == 1
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == retries - 1
    assert Todo.objects.count() == created


def test_a_failure_after_the_insert_leaves_neither_todo_nor_key(alice_api):
    """The todo and its key commit together: make storing the response fail in the database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION fail_store() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = 'query_canceled'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER fail_store BEFORE UPDATE ON idempotency_keys "
            "FOR EACH ROW EXECUTE FUNCTION fail_store()"
        )
    failed = post(alice_api, "/api/todo", {"title": "once"}, "k-1")
    assert failed.status_code == 503
    assert not Todo.objects.exists()
    assert not IdempotencyKey.objects.exists()

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER fail_store ON idempotency_keys")
    retried = post(alice_api, "/api/todo", {"title": "once"}, "k-1")
    assert retried.status_code == 201
    assert Todo.objects.count() == 1
