"""The seed's table: no index besides the primary key. `python -m bench.seed_before.schema`
creates the database if missing and the table, emptied."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    text,
)
from sqlalchemy.engine import make_url

metadata = MetaData()

todos_table = Table(
    "todos_seed_before",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("description", Text),
    Column("priority", String(10), nullable=False, server_default="medium"),
    Column("due_date", Date),
    Column("completed", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def reset(database_url):
    url = make_url(database_url)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {todos_table.name} RESTART IDENTITY"))
    engine.dispose()


if __name__ == "__main__":
    from .db_connection import DATABASE_URL

    reset(DATABASE_URL)
