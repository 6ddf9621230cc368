"""Undo on the pages, without JavaScript: complete, reopen, delete and move each leave a message
with an Undo button that puts things back; a delete asks first."""

import re

import pytest

from todos.models import Todo
from todos.services import create_list, create_todo

pytestmark = pytest.mark.django_db


def undo_url(html):
    match = re.search(r'<form method="post" action="(/undo/[^"]+/)" class="undo" data-undo>', html)
    assert match, "no Undo in the page"
    return match.group(1)


def test_completing_a_todo_can_be_undone_with_the_subtasks_it_closed(alice, alice_client):
    trip = create_todo(owner=alice, title="Trip")
    passport = create_todo(owner=alice, title="Passport", parent_id=trip.pk)
    create_todo(owner=alice, title="Visa", parent_id=trip.pk, completed=True)

    page = alice_client.post(f"/todos/{trip.pk}/toggle/", {"next": "/"}, follow=True)
    html = page.content.decode()
    assert "Marked “Trip” done." in html
    assert set(Todo.objects.filter(completed=True).values_list("title", flat=True)) == {
        "Trip",
        "Passport",
        "Visa",
    }

    page = alice_client.post(undo_url(html), {"next": "/"}, follow=True)

    assert "Undone." in page.content.decode()
    assert set(Todo.objects.filter(completed=False).values_list("pk", flat=True)) == {
        trip.pk,
        passport.pk,
    }  # the subtask done before stays done


def test_reopening_can_be_undone(alice, alice_client):
    todo = create_todo(owner=alice, title="Call mum", completed=True)
    html = alice_client.post(
        f"/todos/{todo.pk}/toggle/", {"completed": "false"}, follow=True
    ).content.decode()
    alice_client.post(undo_url(html))
    assert Todo.objects.get(pk=todo.pk).completed


def test_a_delete_asks_first_then_can_be_undone_with_its_subtasks_as_they_were(alice, alice_client):
    trip = create_todo(owner=alice, title="Trip", description="Lisbon")
    create_todo(owner=alice, title="Passport", parent_id=trip.pk)
    before = list(Todo.objects.order_by("id").values())

    confirm = alice_client.get(f"/todos/{trip.pk}/delete/?next=/").content.decode()
    assert "Delete “Trip”?" in confirm
    assert "Its 1 subtask will be deleted with it." in confirm
    assert Todo.objects.count() == 2  # asking deletes nothing

    html = alice_client.post(
        f"/todos/{trip.pk}/delete/", {"next": "/"}, follow=True
    ).content.decode()
    assert "Deleted “Trip”." in html
    assert not Todo.objects.exists()

    alice_client.post(undo_url(html), {"next": "/"})

    after = list(Todo.objects.order_by("id").values())
    for row in before + after:
        row.pop("updated_at")
    assert after == before  # the same ids, places, stamps and text


def test_a_move_can_be_undone_back_to_its_place(alice, alice_client):
    work = create_list(owner=alice, name="Work")
    third = create_todo(owner=alice, title="third")
    second = create_todo(owner=alice, title="second")
    create_todo(owner=alice, title="first")
    places = dict(Todo.objects.values_list("pk", "position"))

    html = alice_client.post(
        f"/todos/{second.pk}/move/", {"list": work.pk, "next": "/"}, follow=True
    ).content.decode()
    assert Todo.objects.get(pk=second.pk).list_id == work.pk

    alice_client.post(undo_url(html))

    back = Todo.objects.get(pk=second.pk)
    assert back.list_id != work.pk
    order = list(
        Todo.objects.filter(list_id=back.list_id)
        .in_position_order()
        .values_list("title", flat=True)
    )
    assert order == ["first", "second", "third"]
    assert places[third.pk] == Todo.objects.get(pk=third.pk).position  # no sibling rewritten


def test_an_undo_works_once_and_not_for_another_user(alice, bob_client, alice_client):
    todo = create_todo(owner=alice, title="Call mum")
    html = alice_client.post(f"/todos/{todo.pk}/toggle/", follow=True).content.decode()
    url = undo_url(html)

    assert "That can no longer be undone." in bob_client.post(url, follow=True).content.decode()
    assert Todo.objects.get(pk=todo.pk).completed
    alice_client.post(url)
    assert not Todo.objects.get(pk=todo.pk).completed
    again = alice_client.post(url, follow=True).content.decode()
    assert "That can no longer be undone." in again
