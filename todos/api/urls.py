from django.urls import path, re_path, register_converter

from . import events, tokens, views
from .docs import DocsView, SchemaView
from .errors import not_found


class TodoIdConverter:
    """A todo or list id that fits PostgreSQL's bigint; anything else matches no route (JSON
    404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value):
        pk = int(value)
        if not 1 <= pk <= 2**63 - 1:
            raise ValueError(value)
        return pk

    def to_url(self, value):
        return str(value)


register_converter(TodoIdConverter, "todo_id")

app_name = "api"
urlpatterns = [
    path("auth/token", tokens.TokenView.as_view(), name="token"),
    path("todo", views.TodoListView.as_view(), name="todo-list"),
    path("todo/bulk", views.TodoBulkView.as_view(), name="todo-bulk"),
    path("todo/bulk/delete", views.TodoBulkDeleteView.as_view(), name="todo-bulk-delete"),
    path("todo/<todo_id:pk>", views.TodoDetailView.as_view(), name="todo-detail"),
    path("todo/<todo_id:pk>/move", views.TodoMoveView.as_view(), name="todo-move"),
    path("lists", views.ListListView.as_view(), name="list-list"),
    path("lists/<todo_id:pk>", views.ListDetailView.as_view(), name="list-detail"),
    path("sync", views.SyncView.as_view(), name="sync"),
    path("events", events.EventsView.as_view(), name="events"),
    path("debug/pool-status", views.PoolStatusView.as_view(), name="pool-status"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", not_found),
]
