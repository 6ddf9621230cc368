from django.apps import AppConfig


class TodosConfig(AppConfig):
    name = "todos"

    def ready(self):
        from . import checks, signals  # noqa: F401  (registers the system checks, the signals)
        from .api import auth  # noqa: F401  (forgets deleted tokens and changed users at once)
        from .db import retry_connections_every_second

        retry_connections_every_second()
