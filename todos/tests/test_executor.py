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
from rest_framework.exceptions import ValidationError

from conftest import make_user
from todos import api_pool, executor, selectors, services
from todos.api.pagination import NEXT, PREVIOUS, TodoCursorPagination
from todos.executor import Param
from todos.models import IdempotencyKey, Priority, Todo, TodoList

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

    def __init__(self, page_size, direction=None, position=None, order="newest"):
        self.page_size, self.order = page_size, order
        self.cursor = (direction, order, *position) if direction else None


def orm_page(owner, filters, places, paging):
    """The same page's query with plain values, evaluated by the ORM."""
    todos = Todo.objects.for_owner(owner).filtered(**filters)
    if places.get("list") is not None:
        todos = todos.filter(list=places["list"])
    if places.get("parent") == "none":
        todos = todos.filter(parent__isnull=True)
    elif places.get("parent") is not None:
        todos = todos.filter(parent=places["parent"])
    return list(paging.page_queryset(todos, paging.position))


CURSOR_KEYS = {
    "newest": lambda todo: todo.created_at,
    "due": lambda todo: todo.due_date,
    "position": lambda todo: todo.position,
}


def pagings(order, middle, undated):
    """A first page, and the pages after and before a todo in the middle (and for order=due,
    around an undated one)."""
    found = [Paging(5, order=order)]
    for todo in (middle, undated) if order == "due" else (middle,):
        position = (CURSOR_KEYS[order](todo), todo.pk)
        found += [Paging(3, NEXT, position, order), Paging(3, PREVIOUS, position, order)]
    return found


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
    work = TodoList.objects.create(owner=user, name="Work")
    parents = list(Todo.objects.for_owner(user).newest_first()[:2])
    for i in range(6):
        Todo.objects.create(
            owner=user, title=f"subtask {i}", parent=parents[i % 2], list_id=parents[i % 2].list_id
        )
    Todo.objects.filter(title__in=["todo 3", "todo 7", "todo 11"]).update(list=work)
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

    inbox = TodoList.objects.get(owner=owner, is_inbox=True)
    parent = Todo.objects.filter(owner=owner, subtasks__isnull=False).first()
    others = TodoList.objects.exclude(owner=owner).get()
    undated = Todo.objects.filter(owner=owner, due_date__isnull=True).first()
    place_sets = [
        {},
        {"list": inbox.pk},
        {"list": others.pk},
        {"list": inbox.pk, "parent": "none"},
        {"list": inbox.pk, "parent": parent.pk},
        {"parent": parent.pk},
    ]
    for size in range(len(FILTERS) + 1):
        for names in itertools.combinations(FILTERS, size):
            filters = {name: FILTERS[name] if name in names else None for name in FILTERS}
            present = {name: value for name, value in filters.items() if value is not None}
            for places in place_sets:
                orders = ["newest", "due"] + (["position"] if len(places) == 2 else [])
                for order in orders:
                    for paging in pagings(order, middle, undated):
                        statement = selectors.list_statement(
                            owner=owner, filters={**filters, **places}, paginator=paging
                        )
                        got = door(lambda statement=statement: executor.run(statement))
                        assert [fields_of(t) for t in got] == [
                            fields_of(t) for t in orm_page(owner, present, places, paging)
                        ], (names, places, order, paging.direction)
    compared.add(("todo", "list"))

    token = Token.objects.create(user=owner)
    assert door(lambda: selectors.auser_for_token(token.key)).pk == owner.pk
    assert door(lambda: selectors.auser_for_token("no such token")) is None
    compared.add(("user", "by-token"))

    selectors._inbox_ids.clear()
    assert door(lambda: selectors.ainbox_id(owner)) == inbox.pk
    compared.add(("todo_list", "inbox"))

    subtasks = set(parent.subtasks.values_list("pk", flat=True))
    assert len(subtasks) == 3
    work = TodoList.objects.get(owner=owner, name="Work")
    moved = door(lambda: executor.run(services._move(owner, parent.pk, work.pk, None, "a0V")))
    assert {t.pk for t in moved} == {parent.pk} | subtasks
    for todo in moved:
        assert fields_of(todo) == fields_of(Todo.objects.get(pk=todo.pk))
    assert (
        set(Todo.objects.filter(list=work, parent=parent).values_list("pk", flat=True)) == subtasks
    )
    compared.add(("todo", "move"))

    got = door(
        lambda: services.aupdate_todo(owner=owner, pk=parent.pk, completed=True, title="done")
    )
    assert fields_of(got) == fields_of(Todo.objects.get(pk=parent.pk))
    assert not Todo.objects.filter(parent=parent, completed=False).exists()
    assert set(Todo.objects.filter(title="done").values_list("pk", flat=True)) == {parent.pk}
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


@pytest.mark.parametrize("window", [3, 1000])
@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.__name__)
def test_search_pages_read_what_the_orm_reads(door, owner, monkeypatch, window):
    """Through the probe alone (a window of 1000 holds them all) and past it (3)."""
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", window)
    todos = list(Todo.objects.for_owner(owner).newest_first())
    middle = todos[len(todos) // 2]
    undated = Todo.objects.filter(owner=owner, due_date__isnull=True).first()
    inbox = TodoList.objects.get(owner=owner, is_inbox=True)
    filter_sets = [{}, {"completed": True}, {"priority": Priority.HIGH, "list": inbox.pk}]
    for q in ("todo", "7", "SUB", "todo 1"):
        for filters in filter_sets:
            for order in ("newest", "due"):
                for paging in pagings(order, middle, undated):
                    given = {**dict.fromkeys(FILTERS), **filters, "q": q}
                    got = door(
                        lambda given=given, paging=paging: selectors.alist_todos(
                            owner=owner, filters=given, paginator=paging
                        )
                    )
                    plain = {k: v for k, v in filters.items() if k != "list"}
                    expected = Todo.objects.for_owner(owner).filtered(**plain)
                    if "list" in filters:
                        expected = expected.filter(list=filters["list"])
                    expected = expected.matching(selectors.search_query(q))
                    assert [fields_of(t) for t in got] == [
                        fields_of(t) for t in paging.page_queryset(expected, paging.position)
                    ], (q, filters, order, paging.direction)


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.__name__)
def test_the_batch_statements_read_what_the_orm_reads_and_a_failed_check_undoes_them(door, owner):
    todos = list(Todo.objects.for_owner(owner).newest_first()[:6])
    batches = [
        [{"id": todos[0].pk, "title": "only a title"}],  # every other column all null
        [
            {"id": todos[1].pk, "due_date": None, "priority": Priority.HIGH},
            {"id": todos[2].pk, "due_date": dt.date(2027, 5, 1), "completed": True},
            {"id": todos[3].pk, "completed": False, "description": "é"},
        ],
    ]
    for items in batches:
        got = door(lambda items=items: services.aupdate_todos(owner=owner, items=items))
        assert [todo.pk for todo in got] == [item["id"] for item in items]
        for todo in got:
            assert fields_of(todo) == fields_of(Todo.objects.get(pk=todo.pk))

    before = [fields_of(todo) for todo in Todo.objects.for_owner(owner)]
    failing = [{"id": todos[4].pk, "title": "never"}, {"id": 10**12, "title": "missing"}]
    with pytest.raises(ValidationError):
        door(lambda: services.aupdate_todos(owner=owner, items=failing))
    with pytest.raises(ValidationError):
        door(lambda: services.adelete_todos_by_id(owner=owner, ids=[todos[5].pk, 10**12]))
    assert [fields_of(todo) for todo in Todo.objects.for_owner(owner)] == before

    door(lambda: services.adelete_todos_by_id(owner=owner, ids=[todos[4].pk, todos[5].pk]))
    assert not Todo.objects.filter(pk__in=[todos[4].pk, todos[5].pk]).exists()


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
