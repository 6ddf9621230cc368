"""The sidebar (and quick add) every signed-in page of todos shows: Today and Upcoming with their counts, all
todos, and each list with its open and overdue counts."""

from django.utils import timezone

from .. import selectors


def sidebar(request, current=None):
    """The template context of the sidebar; `current` names the view or list shown."""
    today = timezone.localdate()  # the user's (todos.time_zones)
    lists = selectors.lists_with_counts(request.user, today)
    return {
        "lists": lists,
        "inbox": lists[0],  # Inbox first: where quick add files a todo by default
        # Set by an add: this page puts the cursor back in the add field.
        "focus_add": request.session.pop("focus_add", False),
        "view_counts": selectors.view_counts(lists),
        "current": current,
        "today": today,
    }
