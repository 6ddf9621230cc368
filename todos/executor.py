"""Run statements that Django's ORM compiled, on whichever connection the request has.

The ORM stays the one source of truth for every query: querysets are built in models.py and
services.py, and Django's compiler turns them into SQL here. Only where the SQL runs differs:

- on the API fast lane (todos/api/fastlane.py) on the API's psycopg AsyncConnectionPool
  (todos/api_pool.py), on the event loop, with no thread hop;
- everywhere else (Django's handler, tests, management commands) on Django's own pooled
  connection, in one sync_to_async hop, inside whatever transaction is open there.

Supported shapes are the plain ones the API needs: SELECT of one model's concrete fields,
INSERT ... RETURNING id, UPDATE ... RETURNING the row, DELETE.

Building and compiling a queryset costs more CPU than running it, so hot statements are built
once per shape with `Param` placeholders where the values go (`cached`), and each call only
binds the values, each through its field's `get_db_prep_value` as the ORM would. Rows are read
through the same converters (`from_db_value`) as the ORM's, on either connection; a queryset
this module cannot run as the ORM would raises ValueError when it is built, never later.
"""

import contextvars
import functools

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections, transaction
from django.db.models import DO_NOTHING, Expression
from django.db.models.query import ModelIterable
from django.db.models.sql import DeleteQuery, InsertQuery, UpdateQuery

from . import api_pool, replica

# The pool the statements of the current request run on: the fast lane sets it to the API's
# pool for the duration of a request; None means Django's own connection.
request_pool = contextvars.ContextVar("request_pool", default=None)


class Statement:
    """SQL and parameters compiled by Django, and how to read its rows and row count."""

    def __init__(self, sql, params, *, using, read, reads_only=False):
        self.sql, self.params, self.using, self.read = sql, params, using, read
        # A SELECT: it runs where the request's reads go (todos.replica), chosen when it runs.
        self.reads_only = reads_only

    @functools.cached_property
    def _preparers(self):
        """Per placeholder, how its value is prepared: as the ORM prepares a plain value
        compared with or written to that field."""
        connection = connections[self.using]
        return [
            functools.partial(p.output_field.get_db_prep_value, connection=connection)
            if isinstance(p, Param)
            else None
            for p in self.params
        ]

    def bind(self, **values):
        """This statement with each Param replaced by its value, prepared by its field."""
        params = [
            p if prepare is None else prepare(values[p.name])
            for p, prepare in zip(self.params, self._preparers, strict=True)
        ]
        return Statement(
            self.sql, params, using=self.using, read=self.read, reads_only=self.reads_only
        )


class Param(Expression):
    """A named value left out of a compiled statement: the ORM compiles it to a placeholder.

    `field` is the model field the value is compared with or written to: `bind` prepares the
    value with its `get_db_prep_value`, as the ORM does with a plain value.
    """

    def __init__(self, name, field):
        super().__init__(output_field=field)
        self.name = name

    @classmethod
    def of(cls, model, name, field_name=None):
        """A Param for the value of `model`'s field `field_name` (by default `name`)."""
        return cls(name, model._meta.get_field(field_name or name))

    def as_sql(self, compiler, connection):
        return "%s", [self]

    def __repr__(self):
        return f"Param({self.name!r})"


_statements = {}


def cached(shape, build):
    """The statement `build()` returns, built once per shape: a hashable key that names
    everything that changes the SQL (which filters are present, the page size...)."""
    statement = _statements.get(shape)
    if statement is None:
        statement = _statements[shape] = build()
    return statement


def select(queryset):
    """A SELECT of the queryset's model rows, read as model instances."""
    if queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups:
        raise ValueError("only querysets of model instances run here (no values(), no prefetch)")
    compiler = queryset.query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    klass_info = compiler.klass_info
    if klass_info.get("related_klass_infos") or compiler.annotation_col_map:
        raise ValueError("only plain model querysets run here (no select_related, no annotate)")
    model = klass_info["model"]
    select_list = compiler.select
    attnames = [select_list[i][0].target.attname for i in klass_info["select_fields"]]
    return Statement(
        sql,
        params,
        using="default",
        read=_reader(compiler, select_list, model, attnames),
        reads_only=True,
    )


def select_from(queryset, inner, *, fence=False):
    """A SELECT of the queryset's model rows that reads them from the statement `inner` (a
    SELECT of the same model's rows) in place of the model's table: the outer query's WHERE,
    ORDER BY and LIMIT apply to inner's rows. `fence` adds OFFSET 0 to inner, which keeps
    PostgreSQL from merging the two queries into one plan."""
    outer = select(queryset)
    table = connections[outer.using].ops.quote_name(queryset.model._meta.db_table)
    head, found, tail = outer.sql.partition(f" FROM {table}")
    if not found or "%s" in head or f" FROM {table}" in tail:
        raise ValueError("only a SELECT from the model's table alone reads from a subquery")
    sql = f"{head} FROM ({inner.sql}{' OFFSET 0' if fence else ''}) {table}{tail}"
    params = [*inner.params, *outer.params]
    return Statement(sql, params, using=outer.using, read=outer.read, reads_only=outer.reads_only)


def _reader(compiler, select_list, model, attnames):
    """Rows -> model instances, through the same converters as the ORM's iterator."""
    converters = compiler.get_converters([column for column, _, _ in select_list])
    db = compiler.using  # a router lookup: once, not once per row

    def read(rows, rowcount):
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [model.from_db(db, attnames, row) for row in rows]

    return read


def insert(obj, using="default"):
    """An INSERT of one new model instance; reading it stores the new primary key on obj."""
    meta = obj._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    query = InsertQuery(type(obj))
    query.insert_values(fields, [obj])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = meta.db_returning_fields
    [(sql, params)] = compiler.as_sql()

    def read(rows, rowcount):
        for field, value in zip(meta.db_returning_fields, rows[0], strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding, obj._state.db = False, using
        return obj

    return Statement(sql, params, using=using, read=read)


def update_returning(queryset, values):
    """An UPDATE of the queryset's rows, returning them as model instances."""
    if queryset.query.is_sliced:
        raise ValueError("a sliced queryset cannot be updated")
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    query.clear_ordering(force=True)
    if query.related_updates or query.count_active_tables() != 1:
        raise ValueError("only single-table updates run here")
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    model = queryset.model
    meta, qn = model._meta, compiler.connection.ops.quote_name
    fields = meta.concrete_fields
    sql += " RETURNING " + ", ".join(f"{qn(meta.db_table)}.{qn(f.column)}" for f in fields)
    columns = [(field.get_col(meta.db_table), None, None) for field in fields]
    read = _reader(compiler, columns, model, [f.attname for f in fields])
    return Statement(sql, params, using=queryset.db, read=read)


def delete(queryset):
    """A single DELETE of the queryset's rows; reading it gives the number of rows deleted.

    No signals and no cascades: a model that other rows point at must be deleted through the
    ORM (which deletes or detaches them first), so it is refused here."""
    model = queryset.model
    dependants = [
        f"{r.related_model.__name__}.{r.field.name}"
        for r in model._meta.related_objects
        if r.on_delete is not DO_NOTHING
    ]
    if dependants:
        raise ValueError(f"{model.__name__} has dependants ({', '.join(dependants)}): use delete()")
    if queryset.query.is_sliced:
        raise ValueError("a sliced queryset cannot be deleted")
    query = queryset.query.clone()
    query.__class__ = DeleteQuery
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    return Statement(sql, params, using=queryset.db, read=lambda rows, rowcount: rowcount)


def returning(model, sql, params, using="default"):
    """A statement of SQL written here rather than by the ORM (what the ORM cannot say: an
    UPDATE ... FROM a list of rows), which ends in RETURNING every concrete column of `model`:
    its rows are read as instances, through the same converters as the ORM's."""
    meta = model._meta
    compiler = model._base_manager.all().query.get_compiler(using)
    qn = compiler.connection.ops.quote_name
    fields = meta.concrete_fields
    sql += " RETURNING " + ", ".join(f"{qn(meta.db_table)}.{qn(f.column)}" for f in fields)
    columns = [(field.get_col(meta.db_table), None, None) for field in fields]
    read = _reader(compiler, columns, model, [f.attname for f in fields])
    return Statement(sql, params, using=using, read=read)


def _alias(statement):
    return replica.read_alias() if statement.reads_only else statement.using


def run_sync(statement, alias=None):
    with connections[alias or _alias(statement)].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall() if cursor.description is not None else []
        return statement.read(rows, cursor.rowcount)


_run_in_thread = sync_to_async(run_sync)


async def run(statement):
    """Run on the request's pool when it has one (the fast lane), else on Django's connection;
    a SELECT on the replica's when the request reads from it (todos.replica)."""
    pool = request_pool.get()
    alias = _alias(statement)
    if pool is None:
        return await _run_in_thread(statement, alias)
    if alias != "default":
        pool = await api_pool.opened(alias)
    async with pool.connection() as conn:
        cursor = await conn.execute(statement.sql, statement.params)
        rows = await cursor.fetchall() if cursor.description is not None else []
        return statement.read(rows, cursor.rowcount)


def run_atomic_sync(statement, check):
    """Run the statement in a transaction of its own (a savepoint in one already open), and
    `check` its result before the transaction ends: an exception from `check` undoes the
    statement."""
    with transaction.atomic(using=statement.using):
        result = run_sync(statement)
        check(result)
        return result


_run_atomic_in_thread = sync_to_async(run_atomic_sync)


async def run_atomic(statement, check):
    """`run_atomic_sync` on the request's pool when it has one, else on Django's connection."""
    pool = request_pool.get()
    if pool is None:
        return await _run_atomic_in_thread(statement, check)
    async with pool.connection() as conn, conn.transaction():
        cursor = await conn.execute(statement.sql, statement.params)
        rows = await cursor.fetchall() if cursor.description is not None else []
        result = statement.read(rows, cursor.rowcount)
        check(result)
        return result


_close_old_connections = sync_to_async(close_old_connections)


async def on_django_connection(orm_call):
    """Await an async ORM call (abulk_create...), which runs on Django's own connection. Django's
    handler gives that connection back to its pool when the request finishes; the fast lane
    sends no request_finished, so a lane request gives it back here."""
    try:
        return await orm_call
    finally:
        if request_pool.get() is not None:
            await _close_old_connections()
