from django.urls import path

from ..api.urls import TodoIdConverter  # noqa: F401  (registers the "todo_id" path converter)
from . import batch, lists, staff, views

app_name = "todos"
urlpatterns = [
    path("", views.todo_list, name="list"),
    path("todos/new/", views.todo_create, name="create"),
    path("todos/batch/", batch.todo_batch, name="batch"),
    path("todos/<todo_id:pk>/", views.todo_edit, name="edit"),
    path("todos/<todo_id:pk>/toggle/", views.todo_toggle, name="toggle"),
    path("todos/<todo_id:pk>/delete/", views.todo_delete, name="delete"),
    path("todos/<todo_id:pk>/move/", lists.todo_move, name="move"),
    path("lists/new/", lists.list_create, name="list-create"),
    path("lists/<todo_id:pk>/", lists.list_page, name="todo-list"),
    path("lists/<todo_id:pk>/rename/", lists.list_rename, name="list-rename"),
    path("lists/<todo_id:pk>/delete/", lists.list_delete, name="list-delete"),
    path("staff/pool/", staff.pool_dashboard, name="pool"),
]
