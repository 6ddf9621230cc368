import datetime as dt

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Min
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from . import selectors, services
from .models import Todo, TodoList, TodoQuerySet


class EstimatedCountPaginator(Paginator):
    """The change list's count without COUNT(*) over the whole table: unfiltered, it is the
    planner's estimate (pg_class.reltuples, kept fresh by autovacuum); filtered, or on a small
    table, it is exact. On a million rows the exact count costs more than the page itself."""

    exact_below = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        if not queryset.query.has_filters():
            estimate = _estimated_rows(queryset)
            if estimate >= self.exact_below:
                return estimate
        return super().count


def _estimated_rows(queryset):
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row else -1  # -1: never analyzed


class AdminTodoQuerySet(TodoQuerySet):
    """The admin's todos. Its date hierarchy asks for the distinct years (months, days) of
    created_at; Django answers with SELECT DISTINCT DATE_TRUNC(...) over every row (1.4 s on a
    million rows here). This walks the created_at index instead: one MIN() per distinct value."""

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if field_name != "created_at" or kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order, tzinfo)
        tz = tzinfo or timezone.get_current_timezone()
        todos = self.order_by()
        found = []
        first = todos.aggregate(first=Min("created_at"))["first"]
        while first is not None:
            start = _truncate(timezone.localtime(first, tz), kind)
            found.append(start)
            first = todos.filter(created_at__gte=_next(start, kind)).aggregate(
                first=Min("created_at")
            )["first"]
        return found if order == "ASC" else found[::-1]


def _truncate(moment, kind):
    moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind in ("year", "month"):
        moment = moment.replace(day=1)
    return moment.replace(month=1) if kind == "year" else moment


def _next(start, kind):
    """The start of the following year, month or day (wall-clock arithmetic in start's zone)."""
    if kind == "year":
        return start.replace(year=start.year + 1)
    if kind == "month":
        return (start + dt.timedelta(days=32)).replace(day=1)
    return start + dt.timedelta(days=1)


class InboxFilter(admin.SimpleListFilter):
    """Inbox or not, in two fixed choices: Django's filter on a foreign key would list every
    list of every user (a million users, a million choices). One list: its link in the List
    column."""

    title = "list"
    parameter_name = "in"

    def lookups(self, request, model_admin):
        return (("inbox", "Inboxes"), ("other", "Other lists"))

    def queryset(self, request, queryset):
        if self.value() in ("inbox", "other"):
            return queryset.filter(list__is_inbox=self.value() == "inbox")
        return queryset


@admin.register(Todo)
class TodoAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "owner",
        "list_link",
        "priority",
        "completed",
        "due_date",
        "created_at",
    )
    list_filter = ("completed", "priority", "due_date", InboxFilter)
    search_fields = ("title",)  # searched by get_search_results, through the API's index
    search_help_text = (
        "An owner's exact username (their todos), or words that start words of the title or "
        f"description (the newest {selectors.MATCHES_LIMIT} matches)."
    )
    date_hierarchy = "created_at"
    list_select_related = ("owner", "list")  # one join for the page, not a query per row
    autocomplete_fields = ("owner",)
    # A todo's list, parent and position change by a move (services.move_todo), not here.
    readonly_fields = ("list", "parent", "position", "completed_at", "created_at", "updated_at")
    fields = (
        "owner",
        "list",
        "parent",
        "position",
        "title",
        "description",
        "priority",
        "due_date",
        "completed",
        "completed_at",
        "created_at",
        "updated_at",
    )
    actions = ("mark_completed", "mark_not_completed")
    # No COUNT(*) over the table on every load (see EstimatedCountPaginator) and no facet counts.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        todos = super().get_queryset(request)
        return AdminTodoQuerySet(model=todos.model, query=todos.query, using=todos.db)

    @admin.display(description="List")
    def list_link(self, todo):
        """The list's name, linking to this change list filtered to that list."""
        return format_html('<a href="?list__id__exact={}">{}</a>', todo.list_id, todo.list.name)

    def get_search_results(self, request, queryset, search_term):
        """The search of the API and the pages (one index, one word rule), not Django's
        icontains over every row; a term that is a username: that user's todos."""
        term = search_term.strip()
        if not term:
            return queryset, False
        owner = get_user_model().objects.filter(username=term).values_list("pk", flat=True)
        if owner:
            return queryset.filter(owner_id=owner[0]), False
        if not selectors.search_query(term):
            return queryset.none(), False
        found = selectors.newest_matching(queryset, term)
        if not found:
            return queryset.none(), False
        # The bounds of their created_at too: the date hierarchy's MIN() and MAX() then walk
        # the created_at index from the first match, not from the table's oldest todo.
        times = [todo.created_at for todo in found]
        return queryset.filter(
            pk__in=[todo.pk for todo in found], created_at__range=(min(times), max(times))
        ), False

    def get_readonly_fields(self, request, obj=None):
        # A todo stays with its owner; the owner is chosen once, when staff add it.
        return self.readonly_fields + (("owner",) if obj else ())

    @admin.action(description="Mark selected todos as completed", permissions=["change"])
    def mark_completed(self, request, queryset):
        self._set_completed(request, queryset, completed=True)

    @admin.action(description="Mark selected todos as not completed", permissions=["change"])
    def mark_not_completed(self, request, queryset):
        self._set_completed(request, queryset, completed=False)

    def _set_completed(self, request, queryset, *, completed):
        changed = services.set_completed(todos=queryset, completed=completed)
        state = "completed" if completed else "not completed"
        noun = "todo" if changed == 1 else "todos"
        self.message_user(request, f"Marked {changed} {noun} {state}.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            saved = services.update_todo(owner=obj.owner, pk=obj.pk, **changed)
        else:
            fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS}
            saved = services.create_todo(owner=form.cleaned_data["owner"], **fields)
        obj.pk, obj.completed_at, obj.updated_at = saved.pk, saved.completed_at, saved.updated_at

    def delete_model(self, request, obj):
        services.delete_todo(owner=obj.owner, pk=obj.pk)

    def delete_queryset(self, request, queryset):
        services.delete_todos(todos=queryset)


@admin.register(TodoList)
class TodoListAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_inbox", "created_at", "todos_link")
    list_filter = ("is_inbox",)
    search_fields = ("name", "=owner__username")
    search_help_text = "Words in the name, or the owner's exact username."
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    readonly_fields = ("is_inbox", "created_at", "updated_at")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (("owner",) if obj else ())

    @admin.display(description="Todos")
    def todos_link(self, todo_list):
        return format_html(
            '<a href="../todo/?list__id__exact={}">todos</a>', todo_list.pk
        )  # a link, not a count per row

    def has_delete_permission(self, request, obj=None):
        # The Inbox stays (it can be renamed) in this admin; deleting another list deletes its
        # todos. Deleting its user deletes it too: the user admin asks this while it collects
        # what goes with the user, and must not be refused.
        if obj is not None and obj.is_inbox and _in_this_admin(request):
            return False
        return super().has_delete_permission(request, obj)


def _in_this_admin(request):
    match = request.resolver_match
    return match is not None and (match.url_name or "").startswith("todos_todolist_")


admin.site.site_header = "Todo administration"
admin.site.site_title = "Todo admin"
admin.site.index_title = "Service administration"
