"""A user deleted while one of their requests writes: Django collects the user's rows, then deletes
them and the user; a row written in between (a todo, a list, an idempotency key, their settings)
goes with the user (ON DELETE CASCADE in the
database) instead of failing the delete on its foreign key (a 500 in the admin)."""

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models.signals import pre_delete

from conftest import make_user
from todos.models import IdempotencyKey, Todo, TodoList, UserSettings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def write_between_collect_and_delete():
    """When Django is about to delete a user (their rows already collected), another connection
    commits a list, todos and an idempotency key of theirs, as requests racing the delete would."""
    db = connection.settings_dict

    def write(sender, instance, **kwargs):
        with psycopg.connect(
            dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"], autocommit=True
        ) as other:
            [list_id] = other.execute(
                "INSERT INTO todo_lists (owner_id, name, is_inbox, created_at, updated_at) "
                "VALUES (%s, 'Late', false, now(), now()) RETURNING id",
                [instance.pk],
            ).fetchone()
            inbox = "(SELECT id FROM todo_lists WHERE owner_id = %s AND is_inbox)"
            for place in (inbox, "%s"):  # one in a list Django collected, one in the new list
                other.execute(
                    "INSERT INTO todos (owner_id, list_id, title, description, priority, "
                    "completed, position, created_at, updated_at) VALUES "
                    f"(%s, {place}, 'late', '', 2, false, 'm', now(), now())",
                    [instance.pk, instance.pk if place == inbox else list_id],
                )
            other.execute(
                "INSERT INTO idempotency_keys (user_id, key, fingerprint, body, headers, "
                "created_at) VALUES (%s, 'late', 'f', '', '{}', now())",
                [instance.pk],
            )
            other.execute(  # a login or the account page saving the user's settings
                "INSERT INTO user_settings (user_id, time_zone, locale) VALUES (%s, 'UTC', 'en') "
                "ON CONFLICT (user_id) DO NOTHING",
                [instance.pk],
            )

    pre_delete.connect(write, sender=User)
    yield
    pre_delete.disconnect(write, sender=User)


def test_a_todo_written_while_its_user_is_deleted_goes_with_the_user(
    write_between_collect_and_delete,
):
    user = make_user("leaving")
    Todo.objects.create(owner=user, title="collected")
    user.delete()
    assert not User.objects.filter(username="leaving").exists()
    assert not Todo.objects.exists()
    assert not TodoList.objects.exists()
    assert not IdempotencyKey.objects.exists()
    assert not UserSettings.objects.exists()


def test_the_admin_deletes_a_user_whose_request_is_still_writing(
    write_between_collect_and_delete, client
):
    staff = make_user("root", is_staff=True, is_superuser=True)
    leaving = make_user("leaving")
    client.force_login(staff)
    response = client.post(f"/admin/auth/user/{leaving.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(username="leaving").exists()
    assert not Todo.objects.exists()
