import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse

ROOT = Path(__file__).resolve().parents[3]
PROBE = (
    "import django; django.setup();"
    "from django.conf import settings; from django.urls import reverse;"
    "print(settings.DEBUG, 'debug_toolbar' in settings.INSTALLED_APPS,"
    " settings.INTERNAL_IPS, reverse('djdt:render_panel'))"
)


def test_tests_run_with_debug_off_and_no_toolbar_urls():
    assert settings.DEBUG is False
    with pytest.raises(NoReverseMatch):
        reverse("djdt:render_panel")


@pytest.mark.django_db
def test_pages_carry_no_toolbar(alice):
    from django.test import Client

    client = Client()
    client.force_login(alice)
    assert "djDebug" not in client.get("/").content.decode()


def test_debug_on_installs_the_toolbar_for_internal_ips_only():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "todoproject.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "['127.0.0.1',",
        "'::1']",
        "/__debug__/render_panel/",
    ]
