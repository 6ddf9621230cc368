"""/api/lists and /api/lists/<id>: every user has an Inbox; names are unique per user ignoring
case; the Inbox can be renamed but not deleted; deleting another list deletes its todos."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from conftest import make_user
from todos.models import Todo, TodoList
from todos.services import create_list, create_todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(alice):
    return create_list(owner=alice, name="Work")


def inbox_of(user):
    return TodoList.objects.get(owner=user, is_inbox=True)


def test_a_new_user_has_exactly_one_list_called_inbox(alice):
    assert list(TodoList.objects.filter(owner=alice).values_list("name", "is_inbox")) == [
        ("Inbox", True)
    ]


def test_createsuperuser_and_signup_make_an_inbox_too(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct-horse-battery")
    call_command("createsuperuser", username="root", email="", interactive=False)
    client.post(
        "/accounts/signup/",
        {"username": "carol", "password1": "a-long-passphrase", "password2": "a-long-passphrase"},
    )
    for username in ("root", "carol"):
        assert inbox_of(User.objects.get(username=username)).name == "Inbox"


def test_it_lists_your_lists_inbox_first_with_open_counts(alice, alice_api, work):
    create_todo(owner=alice, title="one")
    create_todo(owner=alice, title="two", list_id=work.pk)
    create_todo(owner=alice, title="done", list_id=work.pk, completed=True)
    create_list(owner=make_user("bob"), name="Bob's")

    response = alice_api.get("/api/lists")

    assert response.status_code == 200
    assert [(item["name"], item["is_inbox"], item["open_count"]) for item in response.json()] == [
        ("Inbox", True, 1),
        ("Work", False, 1),
    ]


def test_it_creates_a_list_with_a_location(alice_api):
    response = alice_api.post("/api/lists", {"name": "  Groceries "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["is_inbox"], body["open_count"]) == ("Groceries", False, 0)
    assert response["Location"].endswith(f"/api/lists/{body['id']}")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": "work"}, {"name": ["You already have a list with this name."]}),
        ({"name": "INBOX"}, {"name": ["You already have a list with this name."]}),
        ({"name": "   "}, {"name": ["This field may not be blank."]}),
        ({"name": "x" * 101}, {"name": ["Ensure this field has no more than 100 characters."]}),
        ({"name": 5}, {"name": ["Not a valid string."]}),
        ({"name": "Home", "colour": "red"}, {"colour": ["Unknown field."]}),
        ({}, {"name": ["This field is required."]}),
    ],
)
def test_a_bad_or_taken_name_is_400_and_nothing_is_written(alice, alice_api, work, body, errors):
    response = alice_api.post("/api/lists", body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert TodoList.objects.filter(owner=alice).count() == 2


def test_another_users_list_name_is_yours_to_take(alice_api, bob):
    create_list(owner=bob, name="Work")
    assert alice_api.post("/api/lists", {"name": "Work"}, format="json").status_code == 201


def test_the_inbox_can_be_renamed(alice, alice_api):
    inbox = inbox_of(alice)
    response = alice_api.patch(f"/api/lists/{inbox.pk}", {"name": "Later"}, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["is_inbox"]) == ("Later", True)


def test_renaming_to_a_name_you_use_is_400(alice, alice_api, work):
    response = alice_api.patch(f"/api/lists/{work.pk}", {"name": "INBOX"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": ["You already have a list with this name."]}
    work.refresh_from_db()
    assert work.name == "Work"


def test_renaming_a_list_to_itself_in_other_case_is_fine(alice_api, work):
    response = alice_api.patch(f"/api/lists/{work.pk}", {"name": "WORK"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "WORK"


def test_the_inbox_cannot_be_deleted(alice, alice_api):
    inbox = inbox_of(alice)
    create_todo(owner=alice, title="stays")

    response = alice_api.delete(f"/api/lists/{inbox.pk}")

    assert response.status_code == 409
    assert response.json() == {"detail": "The Inbox cannot be deleted (it can be renamed)."}
    assert Todo.objects.filter(list=inbox).count() == 1


def test_deleting_a_list_deletes_its_todos_and_their_subtasks(alice, alice_api, work):
    parent = create_todo(owner=alice, title="parent", list_id=work.pk)
    create_todo(owner=alice, title="subtask", parent_id=parent.pk)
    kept = create_todo(owner=alice, title="in the inbox")

    response = alice_api.delete(f"/api/lists/{work.pk}")

    assert response.status_code == 204
    assert list(Todo.objects.values_list("pk", flat=True)) == [kept.pk]
    assert alice_api.get(f"/api/lists/{work.pk}").status_code == 404


def test_another_users_list_does_not_exist_for_you(alice_api, bob):
    theirs = create_list(owner=bob, name="Secret")
    create_todo(owner=bob, title="theirs", list_id=theirs.pk)

    assert alice_api.get(f"/api/lists/{theirs.pk}").status_code == 404
    patched = alice_api.patch(f"/api/lists/{theirs.pk}", {"name": "Mine"}, format="json")
    assert patched.status_code == 404
    assert alice_api.delete(f"/api/lists/{theirs.pk}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Secret"
    assert Todo.objects.filter(list=theirs).count() == 1


def test_lists_need_credentials(anon_api, work):
    assert anon_api.get("/api/lists").status_code == 401
    assert anon_api.get(f"/api/lists/{work.pk}").status_code == 401
