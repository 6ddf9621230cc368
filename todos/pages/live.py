"""Pages that update themselves (static/todos/app.js, "Live updates"): they subscribe to
GET /api/events from the sync token taken before the page read anything, so that a change
committed while the page was made comes as an event too."""

import functools

from .. import sync


def live_page(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        request.events_token = sync.current_token()
        return view(request, *args, **kwargs)

    return wrapper
