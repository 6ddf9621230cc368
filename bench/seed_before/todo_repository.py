"""The seed's repository: sync functions, one pooled connection checked out per operation."""

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from .db_connection import engine
from .schema import todos_table


def _row_to_dict(row):
    return dict(row._mapping) if row is not None else None


def create_todo(todo_data):
    with engine.begin() as conn:
        row = conn.execute(
            insert(todos_table)
            .values(**todo_data.model_dump(), completed=False)
            .returning(todos_table)
        ).fetchone()
    return _row_to_dict(row)


def get_todo(todo_id):
    with engine.connect() as conn:
        row = conn.execute(select(todos_table).where(todos_table.c.id == todo_id)).fetchone()
    return _row_to_dict(row)


def list_todos(*, completed=None, priority=None, skip=0, limit=100):
    query = select(todos_table)
    if completed is not None:
        query = query.where(todos_table.c.completed == completed)
    if priority is not None:
        query = query.where(todos_table.c.priority == priority)
    query = query.order_by(todos_table.c.created_at.desc()).offset(skip).limit(limit)
    with engine.connect() as conn:
        return [_row_to_dict(row) for row in conn.execute(query)]


def update_todo(todo_id, todo_data):
    values = todo_data.model_dump(exclude_unset=True)
    values["updated_at"] = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(
            update(todos_table)
            .where(todos_table.c.id == todo_id)
            .values(**values)
            .returning(todos_table)
        ).fetchone()
    return _row_to_dict(row)


def delete_todo(todo_id):
    with engine.begin() as conn:
        result = conn.execute(delete(todos_table).where(todos_table.c.id == todo_id))
    return result.rowcount > 0
