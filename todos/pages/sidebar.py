"""The sidebar every signed-in page of todos shows: Today and Upcoming with their counts, all
todos, and each list with its open and overdue counts."""

from django.utils import timezone

from .. import selectors


def sidebar(request, current=None):
    """The template context of the sidebar; `current` names the view or list shown."""
    today = timezone.localdate()  # the user's (todos.time_zones)
    return {
        "lists": selectors.lists_with_counts(request.user, today),
        "view_counts": selectors.view_counts(request.user, today),
        "current": current,
        "today": today,
    }
