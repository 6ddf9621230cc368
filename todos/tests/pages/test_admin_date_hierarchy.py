import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from todos.admin import AdminTodoQuerySet
from todos.models import Todo

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MOMENTS = [
    dt.datetime(2024, 12, 31, 23, 30, tzinfo=UTC),  # already 2025 east of UTC
    dt.datetime(2025, 1, 1, 0, 10, tzinfo=UTC),
    dt.datetime(2025, 1, 31, 12, 0, tzinfo=UTC),
    dt.datetime(2025, 3, 1, 4, 0, tzinfo=UTC),  # still February in New York
    dt.datetime(2025, 3, 9, 7, 30, tzinfo=UTC),  # New York's DST switch day
    dt.datetime(2025, 3, 10, 6, 0, tzinfo=UTC),
    dt.datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
]


@pytest.fixture
def todos(alice):
    Todo.objects.bulk_create(Todo(owner=alice, title=str(m), created_at=m) for m in MOMENTS)
    return AdminTodoQuerySet(model=Todo)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize("kind", ["year", "month", "day"])
@pytest.mark.parametrize("order", ["ASC", "DESC"])
def test_the_admins_dates_are_the_ones_django_finds(todos, zone, kind, order):
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        ours = todos.datetimes("created_at", kind, order)
        djangos = list(Todo.objects.datetimes("created_at", kind, order))
    assert ours == djangos


def test_they_respect_the_change_lists_filters(todos):
    in_2025 = todos.filter(created_at__year=2025)
    assert [d.month for d in in_2025.datetimes("created_at", "month")] == [1, 3]


def test_an_empty_table_has_no_dates(db):
    assert AdminTodoQuerySet(model=Todo).datetimes("created_at", "year") == []
