"""SIGTERM to `manage.py serve` (two workers): /readyz answers 503 at once while the process
still answers, a request in flight finishes with its answer, then the node stops accepting and
exits; one that cannot finish is given up so that the node exits within GRACEFUL_TIMEOUT. The
request is held in flight by a row lock that the test holds."""

import subprocess
import threading
import time

import httpx
import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token

from todos.models import Todo
from todos.tests.dbtools import connect, wait_for_blocked_backends, wait_until
from todos.tests.real_servers import Served, database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.direct_only, pytest.mark.slow]

GRACEFUL_TIMEOUT = 8
NODE = {
    "WEB_CONCURRENCY": "2",
    "DB_POOL_MIN_SIZE": "1",
    "DB_POOL_MAX_SIZE": "3",
    "DB_API_POOL_MAX_SIZE": "2",
    "GRACEFUL_DRAIN_SECONDS": "1",
    "GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
}


@pytest.fixture
def node(django_db_blocker):
    with django_db_blocker.unblock():
        node = Served(database_url(connection.settings_dict), **NODE)
    yield node
    node.remove()


@pytest.fixture
def held_todo():
    """A todo, its owner's token, and a connection holding a lock on its row until released."""
    user = User.objects.create_user(username=f"held-{time.monotonic_ns()}")
    todo = Todo.objects.create(owner=user, title="held")
    locker = connect(autocommit=False)
    locker.execute("SELECT 1 FROM todos WHERE id = %s FOR UPDATE", [todo.pk])
    yield todo, Token.objects.create(user=user).key, locker
    locker.close()


def patch_in_background(node, todo, token):
    answer = {}

    def patch():
        try:
            answer["response"] = httpx.patch(
                f"{node.url}/api/todo/{todo.pk}",
                json={"completed": True},
                headers={"Authorization": f"Token {token}"},
                timeout=60,
            )
        except httpx.TransportError as exc:
            answer["error"] = exc

    thread = threading.Thread(target=patch)
    thread.start()
    return thread, answer


def readyz(node):
    try:
        return httpx.get(f"{node.url}/readyz", timeout=1).status_code
    except httpx.ConnectError:
        return None  # refused: no longer accepting


def test_on_sigterm_readyz_is_503_at_once_the_request_in_flight_finishes_and_the_node_exits(
    node, held_todo
):
    todo, token, locker = held_todo
    assert readyz(node) == 200
    thread, answer = patch_in_background(node, todo, token)
    with connect(autocommit=True) as watcher:
        wait_for_blocked_backends(watcher, 1)  # the PATCH is in flight, waiting on the lock

    node.process.terminate()
    # At once (well within the drain), and while the node still answers:
    assert wait_until(lambda: (status := readyz(node)) != 200 and status, timeout=1) == 503
    assert httpx.get(f"{node.url}/healthz", timeout=5).status_code == 200
    wait_until(lambda: readyz(node) is None, timeout=GRACEFUL_TIMEOUT, what="stops accepting")
    assert node.process.poll() is None  # still finishing the request in flight

    locker.rollback()  # the lock goes: the request completes
    thread.join(timeout=30)
    assert answer["response"].status_code == 200, node.log()[-3000:]
    assert answer["response"].json()["completed"] is True
    assert node.process.wait(timeout=GRACEFUL_TIMEOUT) == 0
    todo.refresh_from_db()
    assert todo.completed


def test_a_request_that_cannot_finish_is_given_up_and_the_node_exits_within_graceful_timeout(
    node, held_todo
):
    todo, token, _ = held_todo
    thread, answer = patch_in_background(node, todo, token)
    with connect(autocommit=True) as watcher:
        wait_for_blocked_backends(watcher, 1)

    started = time.monotonic()
    node.process.terminate()
    try:
        node.process.wait(timeout=GRACEFUL_TIMEOUT + 2)  # the lock is never released
    except subprocess.TimeoutExpired:
        pytest.fail(f"the node did not exit within GRACEFUL_TIMEOUT ({GRACEFUL_TIMEOUT} s)")
    took = time.monotonic() - started
    thread.join(timeout=30)
    assert took <= GRACEFUL_TIMEOUT + 1, f"exited after {took:.1f} s"
    # The request given up got no answer (the connection closed) or a 5xx, never a success: its
    # client cannot take it as done (its statement may still run once the lock goes, as any
    # statement whose client went away does).
    response = answer.get("response")
    assert response is None or response.status_code >= 500
