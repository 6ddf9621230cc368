import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def fresh_session_settings():
    """What a new session without `options` gets, as behind PgBouncer."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"]
    ) as conn:
        return conn.execute(
            "SELECT current_setting('statement_timeout'), current_setting('TimeZone')"
        ).fetchone()


@pytest.fixture
def role_reset_afterwards():
    yield
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER ROLE CURRENT_USER IN DATABASE {name} RESET ALL")


def test_it_sets_the_statement_timeout_and_utc_on_the_role_in_this_database(
    role_reset_afterwards, settings
):
    out = io.StringIO()
    call_command("configure_role", stdout=out)

    assert fresh_session_settings() == (f"{settings.DB_STATEMENT_TIMEOUT_MS // 1000}s", "UTC")
    assert "statement_timeout = 30000 ms, timezone = UTC" in out.getvalue()


def test_it_prints_the_sql_for_a_dba_without_running_it():
    before = fresh_session_settings()
    out = io.StringIO()
    call_command("configure_role", "--sql", stdout=out)

    role, name = connection.settings_dict["USER"], connection.settings_dict["NAME"]
    assert out.getvalue().splitlines() == [
        f'ALTER ROLE "{role}" IN DATABASE "{name}" SET statement_timeout = 30000;',
        f'ALTER ROLE "{role}" IN DATABASE "{name}" SET timezone = \'UTC\';',
    ]
    assert fresh_session_settings() == before
