from django.urls import path

from ..api.urls import TodoIdConverter  # noqa: F401  (registers the "todo_id" path converter)
from . import batch, lists, plan, quick_add, staff, undo, views

app_name = "todos"
urlpatterns = [
    path("", lists.inbox_page, name="list"),
    path("todos/", views.todo_list, name="all"),
    path("today/", plan.today_page, name="today"),
    path("upcoming/", plan.upcoming_page, name="upcoming"),
    path("todos/new/", views.todo_create, name="create"),
    path("todos/quick/", quick_add.add, name="quick-add"),
    path("todos/quick/preview/", quick_add.preview, name="quick-preview"),
    path("todos/batch/", batch.todo_batch, name="batch"),
    path("todos/<todo_id:pk>/", views.todo_edit, name="edit"),
    path("todos/<todo_id:pk>/toggle/", views.todo_toggle, name="toggle"),
    path("todos/<todo_id:pk>/title/", views.todo_title, name="title"),
    path("todos/<todo_id:pk>/delete/", views.todo_delete, name="delete"),
    path("todos/<todo_id:pk>/move/", lists.todo_move, name="move"),
    path("undo/<str:token>/", undo.undo, name="undo"),
    path("lists/new/", lists.list_create, name="list-create"),
    path("lists/<todo_id:pk>/", lists.list_page, name="todo-list"),
    path("lists/<todo_id:pk>/rename/", lists.list_rename, name="list-rename"),
    path("lists/<todo_id:pk>/delete/", lists.list_delete, name="list-delete"),
    path("staff/pool/", staff.pool_dashboard, name="pool"),
]
