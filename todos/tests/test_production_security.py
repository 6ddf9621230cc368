"""Under production settings (HTTPS=1, a SECRET_KEY, DEBUG off, all from the environment as a
deployment sets them): HTTPS only, HSTS, secure and HTTP-only cookies, and the usual headers,
as a browser sees them. The probes stay reachable over plain HTTP for load balancers."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import global_settings
from django.db import connection

from conftest import PASSWORD, make_user
from todos.tests.real_servers import ROOT, database_url

pytestmark = pytest.mark.django_db(transaction=True)

# Runs in a fresh process, so that the settings are read from its environment. Static files use
# the plain storage only because collectstatic has not run here (it does in `manage.py serve`).
SCRIPT = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import override_settings

plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
https = {"HTTP_HOST": "localhost", "HTTP_X_FORWARDED_PROTO": "https"}
http = {"HTTP_HOST": "localhost"}


def cookie(response, name):
    morsel = response.cookies[name]
    return {k: morsel[k] for k in ("secure", "httponly", "samesite")}


with override_settings(STORAGES={"default": plain, "staticfiles": plain}):
    client = Client()
    over_http = client.get("/api/todo", **http)
    probe = client.get("/healthz", **http)
    page = client.get("/admin/login/", **https)
    login = client.post(
        "/admin/login/?next=/admin/", {"username": "sam", "password": "%(password)s"}, **https
    )
    print(json.dumps({
        "http_status": over_http.status_code,
        "http_location": over_http.get("Location"),
        "probe_status": probe.status_code,
        "page_status": page.status_code,
        "headers": {k: page.get(k) for k in (
            "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
            "Referrer-Policy", "Cross-Origin-Opener-Policy")},
        "csrf_cookie": cookie(page, "csrftoken"),
        "login_status": login.status_code,
        "session_cookie": cookie(login, "sessionid"),
    }))
"""


_seen = {}


@pytest.fixture
def production(settings):
    """What the production process answered; asked once for the module's tests."""
    if _seen:
        return _seen
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # as the server will check it
    make_user("sam", is_staff=True)
    env = {
        **os.environ,
        "HTTPS": "1",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "todoproject.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT % {"password": PASSWORD}],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    _seen.update(json.loads(result.stdout.strip().splitlines()[-1]))
    return _seen


def test_plain_http_is_redirected_to_https(production):
    assert production["http_status"] == 301
    assert production["http_location"] == "https://localhost/api/todo"


def test_the_health_probe_answers_over_plain_http(production):
    assert production["probe_status"] == 200


def test_pages_carry_hsts_and_the_security_headers(production):
    assert production["page_status"] == 200
    assert production["headers"] == {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def test_cookies_are_secure_and_the_session_cookie_is_http_only(production):
    assert production["login_status"] == 302
    assert production["session_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert production["csrf_cookie"]["secure"] is True
