import pytest

from todos.checks import check_connection_budget
from todos.db import server_connection_limits

pytestmark = pytest.mark.django_db


def test_it_warns_when_4_workers_x_50_exceed_max_connections(settings):
    # 4 x 50 = 200 exceeds a default server's 100; a server raised past that needs more workers.
    workers = max(4, server_connection_limits()["available_connections"] // 50 + 1)
    settings.WEB_CONCURRENCY, settings.DB_POOL_MAX_SIZE = workers, 50
    warnings = check_connection_budget(databases=["default"])
    assert [w.id for w in warnings] == ["todos.W001"]
    assert "max_connections" in warnings[0].msg
    assert f"{workers} workers x pool max 50 = {workers * 50}" in warnings[0].msg


def test_it_is_quiet_for_1_worker_x_50(settings):
    settings.WEB_CONCURRENCY, settings.DB_POOL_MAX_SIZE = 1, 50
    assert check_connection_budget(databases=["default"]) == []


def test_it_runs_only_when_databases_are_checked(settings):
    settings.WEB_CONCURRENCY = 4
    assert check_connection_budget(databases=None) == []
