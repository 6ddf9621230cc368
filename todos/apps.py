from django.apps import AppConfig


class TodosConfig(AppConfig):
    name = "todos"

    def ready(self):
        from . import checks, signals  # noqa: F401  (registers the system checks, the signals)
        from .db import retry_connections_every_second

        retry_connections_every_second()
