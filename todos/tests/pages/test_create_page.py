import datetime as dt

import pytest
from django.test import Client

from todos.models import Priority, Todo

pytestmark = pytest.mark.django_db


def test_it_creates_a_todo_and_says_so(alice, alice_client):
    response = alice_client.post(
        "/todos/new/",
        {"title": "  Buy milk  ", "priority": "high", "due_date": "2027-01-31"},
        follow=True,
    )

    todo = Todo.objects.get()
    assert (todo.owner, todo.title, todo.priority) == (alice, "Buy milk", Priority.HIGH)
    assert todo.due_date == dt.date(2027, 1, 31)
    assert response.redirect_chain == [("/", 302)]
    assert "Added “Buy milk”." in response.content.decode()


def test_it_goes_back_to_the_filtered_list_it_came_from(alice_client):
    response = alice_client.post(
        "/todos/new/", {"title": "x", "priority": "low", "next": "/?priority=low"}
    )
    assert response["Location"] == "/?priority=low"


def test_it_ignores_a_next_url_on_another_site(alice_client):
    response = alice_client.post(
        "/todos/new/", {"title": "x", "priority": "low", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "   "}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "at most 200 characters"),
        ({"title": "nul\x00byte"}, "title", "Null characters are not allowed."),
        ({"title": "ok", "priority": "urgent"}, "priority", "Select a valid choice."),
        ({"title": "ok", "due_date": "2027-02-30"}, "due_date", "Enter a valid date."),
    ],
)
def test_bad_input_shows_errors_next_to_the_field_and_writes_nothing(
    alice_client, fields, field, error
):
    response = alice_client.post("/todos/new/", {"priority": "medium", **fields})

    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors[field])
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert f'aria-describedby="id_{field}_error"' in html or 'aria-invalid="true"' in html
    assert Todo.objects.count() == 0


@pytest.mark.parametrize("title", ["", "   ", "x" * 201, "nul\x00byte", "x" * 200, " padded "])
def test_the_page_and_the_api_accept_and_reject_the_same_titles(alice_client, alice_api, title):
    page = alice_client.post("/todos/new/", {"title": title, "priority": "medium"})
    api = alice_api.post("/api/todo", {"title": title}, format="json")

    assert (page.status_code == 302) == (api.status_code == 201)


def test_a_200_character_title_after_trimming_is_fine(alice_client):
    alice_client.post("/todos/new/", {"title": f"  {'x' * 200}  ", "priority": "medium"})
    assert Todo.objects.get().title == "x" * 200


def test_the_new_todo_page_shows_a_labelled_form(alice_client):
    html = alice_client.get("/todos/new/").content.decode()
    for field in ("title", "description", "priority", "due_date"):
        assert f'<label for="id_{field}">' in html
    assert "csrfmiddlewaretoken" in html


def test_a_post_without_the_csrf_token_is_refused(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post("/todos/new/", {"title": "sneaky", "priority": "medium"})

    assert response.status_code == 403
    assert Todo.objects.count() == 0


def test_anonymous_visitors_cannot_create(client):
    response = client.post("/todos/new/", {"title": "x", "priority": "medium"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Todo.objects.count() == 0
