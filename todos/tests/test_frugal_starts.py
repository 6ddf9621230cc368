"""Starts that are quick and take few connections: collectstatic runs only when the static source
files changed, a management command opens only the connections it uses (the pools' minimums are
for serving workers), and a serving worker keeps its minimum open. Connections are counted from
outside, in pg_stat_activity, by the application_name each process is given (PGAPPNAME)."""

import os
import subprocess
import sys
import uuid

import httpx
import psycopg
import pytest
from django.db import connection

from todos.management.commands.serve import collect_static_files_if_changed
from todos.tests.dbtools import wait_until
from todos.tests.real_servers import ROOT, Served, database_url

# Holds one connection of its own until its standard input closes.
HOLDING = (
    "import sys; from todos.models import Todo; Todo.objects.count(); "
    "print('holding', flush=True); sys.stdin.readline()"
)


def backends(application_name):
    """Connections open now to the test database under that application_name."""
    db = connection.settings_dict
    with psycopg.connect(
        dbname="postgres", host=db["HOST"], port=db["PORT"], user=db["USER"], autocommit=True
    ) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [db["NAME"], application_name],
        ).fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.direct_only
def test_manage_py_shell_opens_at_most_two_connections_whatever_the_pools_minimum():
    name = f"shell-{uuid.uuid4().hex[:12]}"
    shell = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", HOLDING],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "DB_POOL_MIN_SIZE": "20",
            "DB_API_POOL_MIN_SIZE": "2",
            "PGAPPNAME": name,
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert shell.stdout.readline().strip() == "holding"
        opened = backends(name)
    finally:
        shell.communicate("\n", timeout=60)
    assert 1 <= opened <= 2, f"manage.py shell opened {opened} connections"
    assert shell.returncode == 0


@pytest.fixture
def served_node(django_db_setup, django_db_blocker):
    name = f"serve-{uuid.uuid4().hex[:12]}"
    with django_db_blocker.unblock():
        node = Served(
            database_url(connection.settings_dict),
            WEB_CONCURRENCY="1",
            DB_POOL_MIN_SIZE="3",
            DB_POOL_MAX_SIZE="6",
            PGAPPNAME=name,
        )
    yield node, name
    node.remove()


@pytest.mark.django_db(transaction=True)
@pytest.mark.direct_only
def test_a_serving_worker_keeps_its_pools_minimum_open_and_the_serve_command_holds_none(
    served_node,
):
    node, name = served_node
    assert httpx.get(f"{node.url}/readyz", timeout=10).status_code == 200
    # The worker's Django pool fills to its minimum (3) in the background (one more if a request
    # came first); every connection to the database is the worker's: the serve command gave back
    # what migrate and the connection arithmetic used.
    opened = wait_until(lambda: (n := backends(name)) >= 3 and n, timeout=30, what="3 connections")
    assert opened <= 6
    assert httpx.get(f"{node.url}/readyz", timeout=10).json()["pool"]["size"] == opened


@pytest.fixture
def static_sources(settings, tmp_path):
    """A project whose only static files are one directory, collected by production's storage."""
    source, root = tmp_path / "source", tmp_path / "root"
    source.mkdir()
    (source / "app.css").write_text("body { color: black }")
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    return source, root


def edit(path, text):
    """Change a file as a later edit does: collectstatic copies a file only when its time, in
    whole seconds, is after the collected copy's."""
    path.write_text(text)
    later = path.stat().st_mtime + 2
    os.utime(path, (later, later))


def test_static_files_are_collected_again_only_when_a_source_file_changed(static_sources):
    source, root = static_sources

    assert collect_static_files_if_changed() is True
    assert (root / "staticfiles.json").exists()
    assert collect_static_files_if_changed() is False  # nothing changed: nothing to do

    edit(source / "app.css", "body { color: navy }")
    assert collect_static_files_if_changed() is True
    assert "navy" in (root / "app.css").read_text()

    (source / "app.js").write_text("console.log('new')")
    assert collect_static_files_if_changed() is True
    assert (root / "app.js").exists()
    assert collect_static_files_if_changed() is False


def test_a_missing_manifest_is_collected_again_even_with_the_stamp_in_place(static_sources):
    _, root = static_sources
    assert collect_static_files_if_changed() is True
    (root / "staticfiles.json").unlink()

    assert collect_static_files_if_changed() is True
    assert (root / "staticfiles.json").exists()
