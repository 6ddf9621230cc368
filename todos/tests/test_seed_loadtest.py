import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from todos.models import Priority, Todo

pytestmark = pytest.mark.django_db(transaction=True)  # the command VACUUMs, outside a transaction


def seed(tmp_path, **options):
    path = tmp_path / "tokens.json"
    call_command("seed_loadtest", tokens_file=path, stdout=io.StringIO(), **options)
    return json.loads(path.read_text())


def test_it_writes_one_valid_token_per_crud_user_and_per_scenario_user(tmp_path):
    tokens = seed(tmp_path, users=3)
    assert len(set(tokens["crud"])) == 3
    for name in ("burst", "bulk", "bigtable"):
        assert Token.objects.get(key=tokens[name]).user.username == f"loadtest-{name}"
    assert Token.objects.filter(key__in=tokens["crud"]).count() == 3


def test_load_test_users_cannot_sign_in_with_a_password(tmp_path):
    seed(tmp_path, users=1)
    assert not User.objects.get(username="loadtest-1").has_usable_password()


def test_it_writes_the_big_table_with_open_and_done_todos_of_every_priority(tmp_path):
    seed(tmp_path, users=1, bigtable_rows=3000)
    todos = Todo.objects.filter(owner__username="loadtest-bigtable")
    assert todos.count() == 3000
    for priority in Priority:
        assert todos.filter(priority=priority, completed=False).exists()
        assert todos.filter(priority=priority, completed=True).exists()
    assert not todos.filter(completed=True, completed_at__isnull=True).exists()
    newest = todos.order_by("-created_at")[:2]
    assert newest[0].created_at > newest[1].created_at


def test_a_second_run_empties_the_other_load_test_lists_but_keeps_the_big_table(tmp_path, alice):
    tokens = seed(tmp_path, users=2, bigtable_rows=500)
    Todo.objects.create(owner=User.objects.get(username="loadtest-1"), title="left over")
    Todo.objects.create(owner=alice, title="not a load-test todo")
    big_ids = set(
        Todo.objects.filter(owner__username="loadtest-bigtable").values_list("id", flat=True)
    )

    assert seed(tmp_path, users=2, bigtable_rows=500) == tokens
    assert not Todo.objects.filter(owner__username="loadtest-1").exists()
    assert Todo.objects.filter(owner=alice).count() == 1
    assert (
        set(Todo.objects.filter(owner__username="loadtest-bigtable").values_list("id", flat=True))
        == big_ids
    )
