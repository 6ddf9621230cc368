"""A strict Content-Security-Policy on every page (django-csp): nothing inline anywhere, and a
report-only mode for a rollout. The browser test (browser/test_content_security_policy.py)
loads each page kind and sees no violation."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from todos.services import create_todo

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(header):
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.fixture
def pages(alice):
    todo = create_todo(owner=alice, title="mine")
    return {
        "list": ("alice", "/"),
        "new todo": ("alice", "/todos/new/"),
        "edit": ("alice", f"/todos/{todo.pk}/"),
        "not found": ("alice", "/nowhere/"),
        "admin index": ("staff", "/admin/"),
        "admin change list": ("staff", "/admin/todos/todo/"),
        "admin change form": ("staff", f"/admin/todos/todo/{todo.pk}/change/"),
        "admin users": ("staff", "/admin/auth/user/"),
        "staff dashboard": ("staff", "/staff/pool/"),
        "API docs": ("staff", "/api/docs/"),
    }


def test_every_page_carries_the_policy(pages, alice_client, staff_client):
    clients = {"alice": alice_client, "staff": staff_client}
    for name, (who, path) in pages.items():
        response = clients[who].get(path)
        assert response.status_code == (404 if name == "not found" else 200), name
        assert directives(response["Content-Security-Policy"]) == POLICY, name
        assert "Content-Security-Policy-Report-Only" not in response, name


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/admin/login/"])
def test_the_pages_of_visitors_carry_it(client, path):
    assert directives(client.get(path)["Content-Security-Policy"]) == POLICY


@pytest.mark.parametrize("path", ["/api/todo", "/api/auth/token", "/api/schema/"])
def test_the_apis_json_endpoints_go_without_it(alice, client, path):
    # The fast lane answers token calls without Django's middleware: the same headers here.
    client.force_login(alice)
    assert "Content-Security-Policy" not in client.get(path)


def test_the_csrf_failure_page_is_ours_with_nothing_inline(alice):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "alice", "password": "x"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "Please try again" in html
    assert not [pattern.pattern for pattern in INLINE if pattern.search(html)]
    assert directives(response["Content-Security-Policy"]) == POLICY


def test_the_docs_start_up_script_is_a_file_of_its_own(client):
    html = client.get("/api/docs/").content.decode()
    [script] = re.findall(r'<script src="([^"]*script=[^"]*)"', html)
    response = client.get(script.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    assert "SwaggerUIBundle(" in response.content.decode()


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script without src
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=", re.I),
    re.compile(r"\son[a-z]+=", re.I),  # onclick=...
    re.compile(r"javascript:", re.I),
]


def test_no_template_has_inline_script_or_style():
    found = [
        (str(path.relative_to(ROOT)), pattern.pattern)
        for path in (ROOT / "templates").rglob("*.html")
        for pattern in INLINE
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_report_only_mode_for_a_rollout():
    probe = (
        "import django; django.setup(); from django.test import Client;"
        "r = Client().get('/healthz', HTTP_HOST='localhost');"
        "print(r.get('Content-Security-Policy')); print(r['Content-Security-Policy-Report-Only'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={
            **os.environ,
            "CSP_REPORT_ONLY": "1",
            "CSP_REPORT_URI": "/csp-reports",
            "DJANGO_SETTINGS_MODULE": "todoproject.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    enforced, report_only = result.stdout.splitlines()
    assert enforced == "None"
    assert directives(report_only) == {**POLICY, "report-uri": "/csp-reports"}
