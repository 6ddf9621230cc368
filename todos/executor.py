"""Run statements that Django's ORM compiled, on whichever connection the request has.

The ORM stays the one source of truth for every query: querysets are built in models.py and
services.py, and Django's compiler turns them into SQL here. Only where the SQL runs differs:

- on the API fast lane (todos/api/fastlane.py) on a psycopg AsyncConnectionPool, on the event
  loop, with no thread hop;
- everywhere else (Django's handler, tests, management commands) on Django's own pooled
  connection, in one sync_to_async hop, inside whatever transaction is open there.

Supported shapes are the plain ones the API needs: SELECT of one model's concrete fields,
INSERT ... RETURNING id, UPDATE ... RETURNING the row, DELETE.

Building and compiling a queryset costs more CPU than running it, so hot statements are built
once per shape with `Param` placeholders where the values go (`cached`), and each call only
binds the values.
"""

import contextvars

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.models import Expression
from django.db.models.sql import DeleteQuery, InsertQuery, UpdateQuery

# The fast lane sets this to its pool for the duration of a request.
lane_pool = contextvars.ContextVar("lane_pool", default=None)


class Statement:
    """SQL and parameters compiled by Django, and how to read its rows and row count."""

    def __init__(self, sql, params, *, using, read):
        self.sql, self.params, self.using, self.read = sql, params, using, read

    def bind(self, **values):
        """This statement with each Param replaced by its value."""
        params = [values[p.name] if isinstance(p, Param) else p for p in self.params]
        return Statement(self.sql, params, using=self.using, read=self.read)


class Param(Expression):
    """A named value left out of a compiled statement: the ORM compiles it to a placeholder.

    Its value is bound as is, so it must already be what the column stores (an int for a
    foreign key or a priority, a date, a str).
    """

    def __init__(self, name, output_field=None):
        super().__init__(output_field=output_field)
        self.name = name

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
    compiler = queryset.query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    klass_info = compiler.klass_info
    if klass_info.get("related_klass_infos") or compiler.annotation_col_map:
        raise ValueError("only plain model querysets run here")
    model = klass_info["model"]
    select_list = compiler.select
    attnames = [select_list[i][0].target.attname for i in klass_info["select_fields"]]
    converters = compiler.get_converters([column for column, _, _ in select_list])

    db = queryset.db  # a router lookup: once, not once per row

    def read(rows, rowcount):
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [model.from_db(db, attnames, row) for row in rows]

    return Statement(sql, params, using=queryset.db, read=read)


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
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    query.clear_ordering(force=True)
    if query.related_updates or query.count_active_tables() != 1:
        raise ValueError("only single-table updates run here")
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    meta, qn = queryset.model._meta, compiler.connection.ops.quote_name
    columns = [f for f in meta.concrete_fields]
    sql += " RETURNING " + ", ".join(f"{qn(meta.db_table)}.{qn(f.column)}" for f in columns)
    attnames = [f.attname for f in columns]

    model, db = queryset.model, queryset.db

    def read(rows, rowcount):
        return [model.from_db(db, attnames, row) for row in rows]

    return Statement(sql, params, using=queryset.db, read=read)


def delete(queryset):
    """A single DELETE of the queryset's rows (no signals, no cascades: todos have no
    dependants); reading it gives the number of rows deleted."""
    query = queryset.query.clone()
    query.__class__ = DeleteQuery
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    return Statement(sql, params, using=queryset.db, read=lambda rows, rowcount: rowcount)


def run_sync(statement):
    with connections[statement.using].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall() if cursor.description is not None else []
        return statement.read(rows, cursor.rowcount)


_run_in_thread = sync_to_async(run_sync)


async def run(statement):
    """Run on the fast lane's pool when the request has one, else on Django's connection."""
    pool = lane_pool.get()
    if pool is None:
        return await _run_in_thread(statement)
    async with pool.connection() as conn:
        cursor = await conn.execute(statement.sql, statement.params)
        rows = await cursor.fetchall() if cursor.description is not None else []
        return statement.read(rows, cursor.rowcount)
