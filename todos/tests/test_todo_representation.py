import datetime as dt

import pytest

from todos.api.serializers import TodoSerializer, todo_data
from todos.models import Priority
from todos.services import create_todo, update_todo

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("priority", list(Priority))
def test_todo_data_matches_the_serializer(alice, priority):
    todo = create_todo(
        owner=alice, title="t", description="d", priority=priority, due_date=dt.date(2027, 5, 1)
    )
    done = update_todo(owner=alice, pk=todo.pk, completed=True)
    bare = create_todo(owner=alice, title="bare")

    for instance in (todo, done, bare):
        assert todo_data(instance) == TodoSerializer(instance).data
