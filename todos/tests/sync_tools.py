"""A sync client's copy of a user's lists and todos, kept by applying sync pages as a client
would, and the server's state to hold it against (the same serializers the API answers with)."""

from todos.api.serializers import list_data, todo_data
from todos.models import Todo
from todos.selectors import lists_with_open_counts


class Copy:
    def __init__(self, fetch):
        """`fetch(token or None)` returns one sync page (a dict) or raises."""
        self.fetch = fetch
        self.lists, self.todos = {}, {}
        self.token = None
        self.pages = []

    def sync(self):
        """One pass: pages until one has no `more`; a pass without a token replaces the copy."""
        full = self.token is None
        token, fresh = self.token, ({}, {})
        while True:
            page = self.fetch(token)
            self.pages.append(page)
            self._check(page)
            lists, todos = fresh if full else (self.lists, self.todos)
            lists.update((each["id"], each) for each in page["lists"])
            todos.update((each["id"], each) for each in page["todos"])
            for pk in page["deleted_lists"]:
                lists.pop(pk, None)
            for pk in page["deleted_todos"]:
                todos.pop(pk, None)
            token = page["token"]
            if not page["more"]:
                break
        if full:
            self.lists, self.todos = fresh
        self.token = token
        return self

    @staticmethod
    def _check(page):
        assert set(page) == {"lists", "todos", "deleted_lists", "deleted_todos", "token", "more"}
        assert sum(len(page[k]) for k in page if k not in ("token", "more")) <= 1000
        for kind in ("lists", "todos"):
            ids = [each["id"] for each in page[kind]]
            assert len(ids) == len(set(ids)), f"an object twice in one page of {kind}"


def server_state(user):
    """(lists by id, todos by id) as the API shows them now."""
    lists = {each.pk: list_data(each) for each in lists_with_open_counts(user)}
    todos = {each.pk: todo_data(each) for each in Todo.objects.for_owner(user)}
    return lists, todos


def api_fetch(api):
    def fetch(token):
        response = api.get("/api/sync", {} if token is None else {"token": token})
        assert response.status_code == 200, response.content
        return response.json()

    return fetch
