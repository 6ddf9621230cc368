"""todos.executor runs the ORM's compiled statements on two kinds of connection: the API's asyncio
pool (the fast lane) and Django's own. Every cached statement shape is run on both here, and the
rows compared with what the plain ORM gives for the same query; JSON values (a field with its own
converter and adapter) read and write the same on both; querysets the executor cannot run as the
ORM would are refused when the statement is built."""

import asyncio
import datetime as dt
import itertools

import pytest
from asgiref.sync import async_to_sync
from django.db.models import Count
from django.utils import timezone
from rest_framework.authtoken.models import Token

from conftest import make_user
from todos import api_pool, executor, selectors, services
from todos.api.pagination import NEXT, PREVIOUS, TodoCursorPagination
from todos.executor import Param
from todos.models import IdempotencyKey, Priority, Todo

pytestmark = pytest.mark.django_db(transaction=True)

FILTERS = {
    "completed": True,
    "priority": Priority.HIGH,
    "due_before": dt.date(2027, 3, 1),
    "due_after": dt.date(2027, 1, 1),
}


def on_django_connection(make_coroutine):
    async def run():
        return await make_coroutine()

    return async_to_sync(run)()


def on_the_lane_pool(make_coroutine):
    async def run():
        pool = api_pool.make()
        await pool.open()
        token = executor.request_pool.set(pool)
        try:
            return await make_coroutine()
        finally:
            executor.request_pool.reset(token)
            await pool.close()

    return asyncio.run(run())


DOORS = [on_django_connection, on_the_lane_pool]


def fields_of(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


class Paging(TodoCursorPagination):
    """A page as a cursor would give it, without a request."""

    def __init__(self, page_size, direction=None, position=None):
        self.page_size = page_size
        self.cursor = (direction, *position) if direction else None


def orm_page(owner, filters, paging):
    """The same page's query with plain values, evaluated by the ORM."""
    todos = Todo.objects.for_owner(owner).filtered(**filters)
    return list(paging.page_queryset(todos, paging.position))


@pytest.fixture
def owner():
    user = make_user("shapes")
    start = timezone.now() - dt.timedelta(days=1)
    for i in range(24):
        Todo.objects.create(
            owner=user,
            title=f"todo {i}",
            priority=list(Priority)[i % 3],
            completed=i % 2 == 0,
            due_date=dt.date(2027, 1, 1) + dt.timedelta(days=7 * (i % 10)) if i % 4 else None,
            created_at=start + dt.timedelta(minutes=i // 2),  # pairs share a created_at
        )
    make_user("someone-else")
    return user


@pytest.fixture
def fresh_statements():
    """The statement cache empty, so that what the test leaves in it is what the test ran."""
    saved = dict(executor._statements)
    executor._statements.clear()
    yield executor._statements
    executor._statements.clear()
    executor._statements.update(saved)


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.__name__)
def test_every_statement_shape_reads_what_the_orm_reads(door, owner, fresh_statements):
    todos = list(Todo.objects.for_owner(owner).newest_first())
    middle = todos[len(todos) // 2]
    compared = set()

    for todo in (todos[0], todos[-1]):
        got = door(lambda todo=todo: selectors.aget_todo(owner=owner, pk=todo.pk))
        assert fields_of(got) == fields_of(Todo.objects.get(pk=todo.pk))
    assert door(lambda: selectors.aget_todo(owner=owner, pk=10**12)) is None
    compared.add(("todo", "get"))

    pagings = [
        Paging(5),
        Paging(3, NEXT, (middle.created_at, middle.pk)),
        Paging(3, PREVIOUS, (middle.created_at, middle.pk)),
    ]
    for size in range(len(FILTERS) + 1):
        for names in itertools.combinations(FILTERS, size):
            filters = {name: FILTERS[name] if name in names else None for name in FILTERS}
            present = {name: value for name, value in filters.items() if value is not None}
            for paging in pagings:
                statement = selectors.list_statement(owner=owner, filters=filters, paginator=paging)
                got = door(lambda statement=statement: executor.run(statement))
                assert [fields_of(t) for t in got] == [
                    fields_of(t) for t in orm_page(owner, present, paging)
                ], (names, paging.direction)
    compared.add(("todo", "list"))

    token = Token.objects.create(user=owner)
    assert door(lambda: selectors.auser_for_token(token.key)).pk == owner.pk
    assert door(lambda: selectors.auser_for_token("no such token")) is None
    compared.add(("user", "by-token"))

    changes = [
        {"title": "renamed"},
        {"completed": True, "priority": Priority.LOW},
        {"completed": False, "due_date": None},
        {"title": "all", "description": "d", "priority": Priority.HIGH, "due_date": None},
    ]
    for fields in changes:
        got = door(lambda fields=fields: services.aupdate_todo(owner=owner, pk=middle.pk, **fields))
        assert fields_of(got) == fields_of(Todo.objects.get(pk=middle.pk))
    compared.add(("todo", "update"))

    assert door(lambda: services.adelete_todo(owner=owner, pk=middle.pk)) is True
    assert door(lambda: services.adelete_todo(owner=owner, pk=middle.pk)) is False
    assert not Todo.objects.filter(pk=middle.pk).exists()
    compared.add(("todo", "delete"))

    assert {shape[:2] for shape in fresh_statements} == compared


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.__name__)
def test_a_json_field_reads_and_writes_as_the_orm_does(door):
    user = make_user("jsonish")
    key = IdempotencyKey.objects.create(user=user, key="k", fingerprint="f", headers={"a": [1]})
    select = executor.select(IdempotencyKey.objects.filter(pk=Param.of(IdempotencyKey, "id")))
    [read] = door(lambda: executor.run(select.bind(id=key.pk)))
    assert read.headers == {"a": [1]} == IdempotencyKey.objects.get(pk=key.pk).headers

    update = executor.update_returning(
        IdempotencyKey.objects.filter(pk=Param.of(IdempotencyKey, "id")),
        {"headers": Param.of(IdempotencyKey, "headers")},
    )
    written = {"ETag": '"1-2"', "nested": {"é": None}}
    [returned] = door(lambda: executor.run(update.bind(id=key.pk, headers=written)))
    assert returned.headers == written == IdempotencyKey.objects.get(pk=key.pk).headers


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: executor.select(Todo.objects.values("id")), "model instances"),
        (lambda: executor.select(Todo.objects.select_related("owner")), "select_related"),
        (lambda: executor.select(Todo.objects.annotate(n=Count("id"))), "annotate"),
        (lambda: executor.update_returning(Todo.objects.all()[:3], {"title": "x"}), "sliced"),
        (lambda: executor.delete(Todo.objects.all()[:3]), "sliced"),
        (lambda: executor.delete(Todo.objects.filter(pk=0)), None),
        (lambda: executor.delete(Token.objects.all()), None),
        (lambda: executor.delete(Todo.owner.field.related_model.objects.all()), "dependants"),
    ],
)
def test_a_queryset_it_cannot_run_as_the_orm_would_is_refused(build, message):
    if message is None:  # a model nothing points at is fine
        build()
        return
    with pytest.raises(ValueError, match=message):
        build()
