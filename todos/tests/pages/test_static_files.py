import json

from django.core.management import call_command


def test_collectstatic_builds_the_manifest_production_serves(settings, tmp_path):
    # Production's WhiteNoise storage is this one plus compression (slow, and not ours to test).
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }

    call_command("collectstatic", interactive=False, verbosity=0)

    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in ("todos/app.css", "todos/app.js", "todos/icon.svg", "admin/css/base.css"):
        assert name in paths
        assert (tmp_path / paths[name]).exists()
