"""A deleted user's token stops working at once in the worker that deleted the user and within
API_TOKEN_CACHE_SECONDS in the others (so does a deactivated user's, and a former staff member's
staff access); a write racing the delete is 401 in DRF's shape."""

import pytest
from django.contrib.auth.models import User
from django.db import connection

from conftest import make_user
from todos.api import auth
from todos.api.idempotency import IdempotencyKey
from todos.models import Todo
from todos.services import create_todo

# The race tests look at the database after a statement failed in the request.
pytestmark = pytest.mark.django_db(transaction=True)

INVALID_TOKEN = {"detail": "Invalid token."}
USER_GONE = {"detail": "User inactive or deleted."}


@pytest.fixture
def clock(monkeypatch, settings):
    """This worker's clock for remembered tokens, moved by hand; a token is remembered for 5 s."""
    settings.API_TOKEN_CACHE_SECONDS = 5
    now = [1000.0]
    monkeypatch.setattr(auth, "_clock", lambda: now[0])
    return now


def delete_in_another_worker(user):
    """What this worker sees when another process deletes the user: the rows are gone, and
    no signal ran here."""
    with connection.cursor() as cursor:
        for table in ("authtoken_token", "todos", "idempotency_keys"):
            column = "user_id" if table != "todos" else "owner_id"
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [user.pk])
        cursor.execute("DELETE FROM auth_user WHERE id = %s", [user.pk])


def delete_in_the_shell(user):
    user.delete()


def delete_a_queryset(user):
    User.objects.filter(pk=user.pk).delete()


def delete_in_the_admin(user):
    from django.test import Client

    admin = Client()
    admin.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = admin.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()


def calls(todo_pk):
    return [
        ("get", "/api/todo", None),
        ("post", "/api/todo", {"title": "after"}),
        ("post", "/api/todo/bulk", [{"title": "after"}]),
        ("get", f"/api/todo/{todo_pk}", None),
        ("patch", f"/api/todo/{todo_pk}", {"title": "after"}),
        ("delete", f"/api/todo/{todo_pk}", None),
        ("delete", "/api/auth/token", None),
    ]


@pytest.mark.parametrize(
    "delete",
    [delete_in_the_shell, delete_a_queryset, delete_in_the_admin],
    ids=lambda f: f.__name__,
)
def test_a_deleted_users_token_is_refused_at_once_in_this_worker(alice, alice_api, clock, delete):
    todo = create_todo(owner=alice, title="mine")
    assert alice_api.get("/api/todo").status_code == 200  # the token's user is remembered now

    delete(alice)

    for method, path, body in calls(todo.pk):
        response = getattr(alice_api, method)(path, body, format="json")
        assert (method, path, response.status_code) == (method, path, 401)
        assert response.json() == INVALID_TOKEN
        assert response["WWW-Authenticate"] == "Token"
    assert not Todo.objects.exists()


def test_a_deactivated_user_is_refused_at_once_in_this_worker(alice, alice_api, clock):
    assert alice_api.get("/api/todo").status_code == 200
    alice.is_active = False
    alice.save()

    response = alice_api.post("/api/todo", {"title": "after"}, format="json")

    assert response.status_code == 401
    assert response.json() == USER_GONE
    assert not Todo.objects.exists()


def test_a_user_no_longer_staff_loses_staff_endpoints_at_once(staff, staff_api, clock):
    assert staff_api.get("/api/debug/pool-status").status_code == 200
    staff.is_staff = False
    staff.save()
    assert staff_api.get("/api/debug/pool-status").status_code == 403


def test_other_workers_refuse_it_once_the_token_memory_expires(alice, alice_api, clock):
    assert alice_api.get("/api/todo").status_code == 200
    delete_in_another_worker(alice)

    clock[0] += 4.9  # still remembered here: reads see nothing of the deleted user's
    assert alice_api.get("/api/todo").json()["results"] == []

    clock[0] += 0.2
    response = alice_api.get("/api/todo")
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/api/todo", {"title": "racing"}, {}),
        ("/api/todo/bulk", [{"title": "racing"}, {"title": "too"}], {}),
        ("/api/todo", {"title": "racing"}, {"HTTP_IDEMPOTENCY_KEY": "k1"}),
        ("/api/todo/bulk", [{"title": "racing"}], {"HTTP_IDEMPOTENCY_KEY": "k2"}),
    ],
    ids=["create", "bulk", "create with Idempotency-Key", "bulk with Idempotency-Key"],
)
def test_a_create_racing_the_delete_is_401(alice, alice_api, clock, path, body, headers):
    assert alice_api.get("/api/todo").status_code == 200  # remembered, as in a busy worker
    delete_in_another_worker(alice)  # between the token check and the INSERT

    response = alice_api.post(path, body, format="json", **headers)

    assert response.status_code == 401
    assert response.json() == USER_GONE
    assert response["WWW-Authenticate"] == "Token"
    assert not Todo.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_another_users_tokens_are_unaffected(alice, bob, alice_api, bob_api, clock):
    assert bob_api.get("/api/todo").status_code == 200
    alice.delete()
    assert bob_api.post("/api/todo", {"title": "bob's"}, format="json").status_code == 201


@pytest.fixture
def user_deleted_by_the_next_insert():
    """Deletes the owner of the next todo inserted, inside the INSERT itself: the delete lands
    after the request read its user, before the row is written (foreign keys are checked when
    the statement ends)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION delete_owner() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM django_session;
                DELETE FROM authtoken_token WHERE user_id = NEW.owner_id;
                DELETE FROM auth_user WHERE id = NEW.owner_id;
                RETURN NEW;
            END $$;
            CREATE TRIGGER delete_owner BEFORE INSERT ON todos
                FOR EACH ROW EXECUTE FUNCTION delete_owner();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER delete_owner ON todos; DROP FUNCTION delete_owner()")


def test_a_page_create_racing_the_delete_signs_out(alice, client, user_deleted_by_the_next_insert):
    client.force_login(alice)

    response = client.post("/todos/new/", {"title": "racing", "priority": "medium"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/todos/new/"
    assert not Todo.objects.exists()
    assert client.get("/").status_code == 302  # signed out


def test_an_api_create_through_a_session_racing_the_delete_is_401(
    alice, client, user_deleted_by_the_next_insert
):
    client.force_login(alice)
    response = client.post("/api/todo", {"title": "racing"}, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == USER_GONE
    assert not Todo.objects.exists()
